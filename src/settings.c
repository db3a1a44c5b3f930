/* SPDX-License-Identifier: Apache-2.0 */
/* The numeric directives, one table (see settings.h). */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <apr_strings.h>
#include "settings.h"

#define OJW_SETTING_ROW(id, name, flags, min, max, def, help) \
    { id, name, ((flags) & OJW_GLOBAL) != 0, ((flags) & OJW_OFF) != 0, \
      ((flags) & OJW_AUTO) != 0, min, max, def, help },
const ojw_setting_t ojw_settings[OJW_SET_COUNT] = {
    OJW_NUMBER_SETTINGS(OJW_SETTING_ROW)
};
#undef OJW_SETTING_ROW

void ojw_settings_init(ojw_settings_t *s)
{
    int i;

    for (i = 0; i < OJW_SET_COUNT; i++) {
        s->value[i] = ojw_settings[i].def;
    }
    s->set = 0;
}

void ojw_settings_merge(ojw_settings_t *out, const ojw_settings_t *base,
                        const ojw_settings_t *add)
{
    int i;

    for (i = 0; i < OJW_SET_COUNT; i++) {
        out->value[i] = (add->set & (1u << i)) ? add->value[i]
                                               : base->value[i];
    }
    out->set = base->set | add->set;
}

const ojw_setting_t *ojw_setting_find(const char *directive)
{
    int i;

    for (i = 0; i < OJW_SET_COUNT; i++) {
        if (strcasecmp(ojw_settings[i].directive, directive) == 0) {
            return &ojw_settings[i];
        }
    }
    return NULL;
}

const char *ojw_setting_parse(ojw_settings_t *s, const ojw_setting_t *st,
                              const char *arg, apr_pool_t *pool)
{
    char *end;
    long long v;

    if (st->off && strcasecmp(arg, "off") == 0) {
        arg = "0";
    }
    errno = 0;
    v = strtoll(arg, &end, 10);
    if (st->autov && strcasecmp(arg, "auto") == 0) {
        v = 0;
    }
    else if (*arg == '\0' || *end != '\0' || errno == ERANGE || v < st->min
             || v > st->max) {
        return apr_psprintf(pool, "%s: \"%s\" is not a number from %ld to "
                            "%ld%s", st->directive, arg, st->min, st->max,
                            st->off ? " (or off)"
                                    : st->autov ? " (or auto)" : "");
    }
    s->value[st->id] = (long)v;
    s->set |= 1u << st->id;
    return NULL;
}

long ojw_setting(const ojw_settings_t *s, ojw_setting_id_t id)
{
    return s->value[id];
}
