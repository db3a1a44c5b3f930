/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The release, from configure.ac's AC_INIT, in one place for the module,
 * the status page and ordsjwt-check: configure passes PACKAGE_VERSION (a
 * string) in DEFS; apxs/build.sh passes OJW_VERSION_BARE (the bare version,
 * as quotes do not survive apxs, and httpd's headers define a
 * PACKAGE_VERSION of their own).
 */
#include "ojw.h"

#define OJW_STRINGIFY(x)    #x
#define OJW_STRING(x)       OJW_STRINGIFY(x)

#if defined(OJW_VERSION_BARE)
#define OJW_VERSION OJW_STRING(OJW_VERSION_BARE)
#elif defined(PACKAGE_VERSION)
#define OJW_VERSION PACKAGE_VERSION
#else
#error "no version: build with configure or apxs/build.sh"
#endif

const char *ojw_version(void)
{
    return OJW_VERSION;
}
