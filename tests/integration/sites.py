# SPDX-License-Identifier: Apache-2.0
"""Configuration snippets for the test httpds: profiles, protected
Locations, virtual hosts. Every test site is built from these, so that a
directive spelled differently in one test file is not a thing that can
happen."""

from tokens import AUDIENCE, ISSUER


def ca(pki):
    """The CA the module trusts for HTTPS JWK URLs."""
    return "OrdsJwtCACertificateFile %s" % pki["ca"]


def _word(key, value):
    value = str(value)
    if key == "description" or " " in value:
        value = '"%s"' % value
    return "%s=%s" % (key, value)


def profile(name, issuer=ISSUER, audience=AUDIENCE, **keys):
    """OrdsJwtProfile NAME issuer=... audience=... KEY=VALUE ... in the order
    given (jwk_url=, pem_file=, role_claim_name=, allowed_skew= ...); the
    description, and any value with a space, in double quotes."""
    words = ["OrdsJwtProfile", name, "issuer=" + issuer, "audience=" + audience]
    words += [_word(k, v) for k, v in keys.items()]
    return " ".join(words)


def location(path, profile_name, require="valid-user", realm="ORDS", extra=(),
             section="Location"):
    """<Location PATH> with AuthType ords-jwt and AuthOrdsJwtProfile
    profile_name; require: the words of one Require line, or None when
    extra holds the whole authorization (e.g. a <RequireAll> block); extra:
    more lines, in order, after the profile; section: another kind of
    section (Proxy, Directory)."""
    lines = ["<%s %s>" % (section, path),
             "    AuthType ords-jwt",
             '    AuthName "%s"' % realm,
             "    AuthOrdsJwtProfile %s" % profile_name]
    lines += ["    " + line for line in extra]
    if require is not None:
        lines.append("    Require %s" % require)
    lines.append("</%s>" % section)
    return "\n".join(lines)


def basic_location(path, profile_name, require="valid-user", providers="ords-jwt",
                   realm="ORDS", extra=()):
    """<Location PATH> with AuthType Basic, AuthBasicProvider providers and
    AuthOrdsJwtProfile profile_name (None: no profile line): the token as
    the Basic password; extra and require as for location()."""
    lines = ["<Location %s>" % path,
             "    AuthType Basic",
             '    AuthName "%s"' % realm,
             "    AuthBasicProvider %s" % providers]
    if profile_name is not None:
        lines.append("    AuthOrdsJwtProfile %s" % profile_name)
    lines += ["    " + line for line in extra]
    if require is not None:
        lines.append("    Require %s" % require)
    lines.append("</Location>")
    return "\n".join(lines)


def virtual_host(address, *parts, server_name=None):
    """<VirtualHost ADDRESS> around parts (lines or snippets), indented."""
    lines = ["<VirtualHost %s>" % address]
    if server_name:
        lines.append("    ServerName %s" % server_name)
    for part in parts:
        lines += ["    " + line if line else "" for line in part.split("\n")]
    lines.append("</VirtualHost>")
    return "\n".join(lines)


def site(*parts):
    """The snippets joined into the text of a site, one per line."""
    return "\n".join(parts) + "\n"
