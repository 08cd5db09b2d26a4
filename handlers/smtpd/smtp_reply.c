/* SPDX-License-Identifier: MIT
 * smtp_reply.c - the wording of every qmail-smtpd reply, readable in one screen.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    nothing here; only constant text.
 * May touch:  nothing.
 * Wording follows qmail-smtpd where it has a reply; the enhanced status code
 * moves from qmail's "(#x.y.z)" suffix to the front (RFC 2034).
 */
#include <stdio.h>

#include "smtp_reply.h"

const char *const SMTP_R_EHLO_KEYWORDS[] = {
	"PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES", "SMTPUTF8", 0
};
const char SMTP_R_EHLO_SIZE[] = "SIZE";
/* TLS (RFC 3207) and AUTH (RFC 4954) */
const char SMTP_R_TLS_GO[] = "220 2.0.0 ready to start TLS";
const char SMTP_R_TLS_ALREADY[] = "503 5.5.1 TLS already active";
const char SMTP_R_TLS_SYNTAX[] = "501 5.5.4 syntax: STARTTLS";
const char SMTP_R_TLS_PIPELINED[] = "554 5.5.1 commands pipelined after STARTTLS, closing connection";
const char SMTP_R_TLS_FIRST[] = "530 5.7.0 must issue a STARTTLS command first";
const char SMTP_R_TLS_TEMP[] = "454 4.7.0 TLS not available due to temporary reason";
const char SMTP_R_TLS_NEEDCERT[] = "554 5.7.1 a valid client certificate is required";
const char SMTP_R_AUTH_OK[] = "235 2.7.0 authentication successful";
const char SMTP_R_AUTH_FAIL[] = "535 5.7.8 authentication failed";
const char SMTP_R_AUTH_TEMP[] = "454 4.7.0 temporary authentication failure";
const char SMTP_R_AUTH_TOOMANY[] = "421 4.7.0 too many authentication failures, closing connection";
const char SMTP_R_AUTH_CANCEL[] = "501 5.0.0 authentication cancelled";
const char SMTP_R_AUTH_B64[] = "501 5.5.2 cannot decode base64";
const char SMTP_R_AUTH_MECH[] = "504 5.5.4 unrecognized authentication type";
const char SMTP_R_AUTH_AGAIN[] = "503 5.5.1 already authenticated";
const char SMTP_R_AUTH_INMAIL[] = "503 5.5.1 AUTH not permitted during a mail transaction";
const char SMTP_R_AUTH_NEEDTLS[] = "538 5.7.11 encryption required for requested authentication mechanism";
const char SMTP_R_AUTH_FIRST[] = "530 5.7.0 authentication required";
const char SMTP_R_MAV[] = "553 5.7.1 sender address not allowed for this client";
const char SMTP_R_MAV_TEMP[] = "451 4.3.0 unable to read mailfromrules, try again later";
const char SMTP_R_NOOP[] = "250 2.0.0 ok";
const char SMTP_R_RSET[] = "250 2.0.0 flushed";
const char SMTP_R_HELP[] = "214 2.0.0 sqmail, see qmail-smtpd(8)";
const char SMTP_R_VRFY[] = "252 2.1.5 send some mail, i'll try my best";
const char SMTP_R_MAIL_OK[] = "250 2.1.0 ok";
const char SMTP_R_RCPT_OK[] = "250 2.1.5 ok";
const char SMTP_R_DATA_GO[] = "354 go ahead";
const char SMTP_R_QQ_START[] = "451 4.3.0 qqt failure";
const char SMTP_R_TOOBIG[] = "552 5.3.4 sorry, that message size exceeds my databytes limit";
const char SMTP_R_HOPS[] = "554 5.4.6 too many hops, this message is looping";
const char SMTP_R_BARELF[] = "451 4.5.0 See http://pobox.com/~djb/docs/smtplf.html.";
const char SMTP_R_TIMEOUT[] = "451 4.4.2 timeout";
const char SMTP_R_CONTROLS[] = "421 4.3.0 unable to read controls";
const char SMTP_R_LOCAL_ERROR[] = "421 4.3.0 local error, closing connection";
const char SMTP_R_UNIMPL[] = "502 5.5.1 unimplemented";
const char SMTP_R_TOOLONG[] = "500 5.5.2 line too long";
const char SMTP_R_NUL[] = "500 5.5.2 NUL byte in command";
const char SMTP_R_TOOMANYBAD[] = "421 4.7.0 too many bad commands, closing connection";
const char SMTP_R_WANTMAIL[] = "503 5.5.1 MAIL first";
const char SMTP_R_WANTRCPT[] = "503 5.5.1 RCPT first";
const char SMTP_R_NESTED_MAIL[] = "503 5.5.1 MAIL already given, RSET first";
const char SMTP_R_ADDR_SYNTAX[] = "501 5.1.3 syntax error in address";
const char SMTP_R_PARAM[] = "555 5.5.4 unsupported parameter";
const char SMTP_R_PARAM_SYNTAX[] = "501 5.5.4 syntax error in parameter";
const char SMTP_R_NOGATEWAY[] = "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts";
const char SMTP_R_TOOMANYRCPT[] = "452 4.5.3 too many recipients";
const char SMTP_R_BADMAILFROM[] = "553 5.7.1 sorry, your envelope sender has been denied";
const char SMTP_R_BADRCPTTO[] = "553 5.7.1 sorry, your envelope recipient has been denied";
const char SMTP_R_BADHELO[] = "553 5.7.1 sorry, your HELO/EHLO greeting has been denied";
const char SMTP_R_NOHELO[] = "503 5.5.1 sorry, HELO/EHLO first";
const char SMTP_R_MFDNS[] = "553 5.1.8 sorry, your envelope sender domain must exist";
const char SMTP_R_DNS_TEMP[] = "451 4.4.3 DNS temporary failure, try again later";
const char SMTP_R_ROUTED[] = "553 5.7.1 sorry, no source routes, % or ! in recipients from non-relay clients";
const char SMTP_R_NOMAILBOX[] = "550 5.1.1 sorry, no mailbox here by that name";
const char SMTP_R_NOMAILBOX_TEMP[] = "450 4.1.1 sorry, no mailbox here by that name";
const char SMTP_R_RCPTS_TEMP[] = "451 4.3.0 unable to read recipients, try again later";
const char SMTP_R_SHUTDOWN[] = "421 4.3.2 service shutting down, closing connection";
const char SMTP_R_SESSION_TIME[] = "421 4.4.2 session too long, closing connection";
const char SMTP_R_RULES_DENY[] = "554 5.7.1 sorry, this client may not use this service";

/* The log's names of refusals, in s/qmail's Action::Type::Condition scheme
 * (qmail-log(5) of s/qmail); type NULL: the caller's (MAIL: ORIG, RCPT: RCPT). */
static const struct {
	const char *reply, *type, *tag;
} smtp_tags[] = {
	{ SMTP_R_ADDR_SYNTAX, NULL, "Invalid_Address" },
	{ SMTP_R_PARAM, NULL, "Invalid_Parameter" },
	{ SMTP_R_PARAM_SYNTAX, NULL, "Invalid_Parameter" },
	{ SMTP_R_TOOBIG, "DATA", "Invalid_Size" },
	{ SMTP_R_NOGATEWAY, "SNDR", "Invalid_Relay" },
	{ SMTP_R_ROUTED, "SNDR", "Invalid_Route" },
	{ SMTP_R_TOOMANYRCPT, "RCPT", "Toomany_Rcptto" },
	{ SMTP_R_NESTED_MAIL, "ORIG", "Nested_Mail" },
	{ SMTP_R_BADMAILFROM, "ORIG", "Bad_Mailfrom" },
	{ SMTP_R_BADRCPTTO, "RCPT", "Bad_Rcptto" },
	{ SMTP_R_BADHELO, "SNDR", "Bad_Helo" },
	{ SMTP_R_NOHELO, "SNDR", "Missing_Helo" },
	{ SMTP_R_MFDNS, "ORIG", "DNS_MF" },
	{ SMTP_R_DNS_TEMP, NULL, "DNS_Temp" },
	{ SMTP_R_NOMAILBOX, "RCPT", "Failed_Rcptto" },
	{ SMTP_R_NOMAILBOX_TEMP, "RCPT", "Failed_Rcptto" },
	{ SMTP_R_RCPTS_TEMP, "RCPT", "Recipients_Temp" },
	{ SMTP_R_MAV, "ORIG", "Invalid_Sender" },
	{ 0, 0, 0 }
};

/* smtp_reply_tag - the log name of a refusal reply ("Other" if it has none) */
const char *
smtp_reply_tag(const char *reply)
{
	for (int i = 0; smtp_tags[i].reply; i++)
		if (smtp_tags[i].reply == reply)
			return smtp_tags[i].tag;
	return "Other";
}

/* smtp_reply_action - "Reject::TYPE::Condition" for a refusal, into out */
const char *
smtp_reply_action(const char *reply, const char *type, char *out, size_t size)
{
	for (int i = 0; smtp_tags[i].reply; i++)
		if (smtp_tags[i].reply == reply && smtp_tags[i].type)
			type = smtp_tags[i].type;
	snprintf(out, size, "Reject::%s::%s", type, smtp_reply_tag(reply));
	return out;
}
