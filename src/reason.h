/* SPDX-License-Identifier: Apache-2.0 */
#ifndef OJW_REASON_H
#define OJW_REASON_H
#include "ojw.h"
#endif
