/* SPDX-License-Identifier: MIT */
#ifndef SQ_SMTP_REPLY_H
#define SQ_SMTP_REPLY_H

#include <stddef.h>

/* Every reply qmail-smtpd can send, in one place (smtp_reply.c). Each carries
 * an enhanced status code (RFC 2034, RFC 3463), except the 354 intermediate
 * reply, which RFC 2034 leaves without one. *_FMT are printf formats, macros so that the compiler checks them. */

#define SMTP_R_GREETING_FMT "220 %s ESMTP"
#define SMTP_R_QUIT_FMT "221 2.0.0 %s"
#define SMTP_R_HELO_FMT "250 %s"
#define SMTP_R_EHLO_FIRST_FMT "250-%s"
#define SMTP_R_EHLO_SIZE_FMT "SIZE %zu"
extern const char SMTP_R_EHLO_SIZE[];
extern const char *const SMTP_R_EHLO_KEYWORDS[];
extern const char SMTP_R_NOOP[];
extern const char SMTP_R_RSET[];
extern const char SMTP_R_HELP[];
extern const char SMTP_R_VRFY[];
extern const char SMTP_R_MAIL_OK[];
extern const char SMTP_R_RCPT_OK[];
extern const char SMTP_R_DATA_GO[];
#define SMTP_R_QUEUED_FMT "250 2.0.0 ok %lld qp %ld"
#define SMTP_R_QQ_TEMP_FMT "451 %s %s"
#define SMTP_R_QQ_PERM_FMT "554 %s %s"
extern const char SMTP_R_QQ_START[];
extern const char SMTP_R_TOOBIG[];
extern const char SMTP_R_HOPS[];
extern const char SMTP_R_BARELF[];
extern const char SMTP_R_TIMEOUT[];
extern const char SMTP_R_CONTROLS[];
extern const char SMTP_R_LOCAL_ERROR[];
extern const char SMTP_R_UNIMPL[];
extern const char SMTP_R_TOOLONG[];
extern const char SMTP_R_NUL[];
extern const char SMTP_R_TOOMANYBAD[];
extern const char SMTP_R_WANTMAIL[];
extern const char SMTP_R_WANTRCPT[];
extern const char SMTP_R_NESTED_MAIL[];
extern const char SMTP_R_ADDR_SYNTAX[];
extern const char SMTP_R_PARAM[];
extern const char SMTP_R_PARAM_SYNTAX[];
extern const char SMTP_R_NOGATEWAY[];
extern const char SMTP_R_TOOMANYRCPT[];
extern const char SMTP_R_BADMAILFROM[];
extern const char SMTP_R_BADRCPTTO[];
extern const char SMTP_R_BADHELO[];
extern const char SMTP_R_NOHELO[];
extern const char SMTP_R_MFDNS[];
extern const char SMTP_R_DNS_TEMP[];
extern const char SMTP_R_ROUTED[];
extern const char SMTP_R_NOMAILBOX[];
extern const char SMTP_R_NOMAILBOX_TEMP[];
extern const char SMTP_R_RCPTS_TEMP[];
extern const char SMTP_R_SHUTDOWN[];
extern const char SMTP_R_SESSION_TIME[];
extern const char SMTP_R_RULES_DENY[];

/* TLS and AUTH (smtp_tls.c, smtp_auth.c, smtp_mav.c) */
extern const char SMTP_R_TLS_GO[];
extern const char SMTP_R_TLS_ALREADY[];
extern const char SMTP_R_TLS_SYNTAX[];
extern const char SMTP_R_TLS_PIPELINED[];
extern const char SMTP_R_TLS_FIRST[];
extern const char SMTP_R_TLS_TEMP[];
extern const char SMTP_R_TLS_NEEDCERT[];
extern const char SMTP_R_AUTH_OK[];
extern const char SMTP_R_AUTH_FAIL[];
extern const char SMTP_R_AUTH_TEMP[];
extern const char SMTP_R_AUTH_TOOMANY[];
extern const char SMTP_R_AUTH_CANCEL[];
extern const char SMTP_R_AUTH_B64[];
extern const char SMTP_R_AUTH_MECH[];
extern const char SMTP_R_AUTH_AGAIN[];
extern const char SMTP_R_AUTH_INMAIL[];
extern const char SMTP_R_AUTH_NEEDTLS[];
extern const char SMTP_R_AUTH_FIRST[];
extern const char SMTP_R_MAV[];
extern const char SMTP_R_MAV_TEMP[];

/* smtp_reply_tag - short stable name of a refusal for the log */
const char *smtp_reply_tag(const char *reply);
/* smtp_reply_action - s/qmail's "Reject::TYPE::Condition" for a refusal */
const char *smtp_reply_action(const char *reply, const char *type, char *out, size_t size);

#endif
