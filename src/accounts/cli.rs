//! The `goatedvips user …` commands: account administration from the command line, through
//! the same service as the API. Passwords are read from a prompt (no echo) or, without a
//! terminal, from the first line of standard input; never from the command line.

use std::io::{BufRead, IsTerminal, Write};

use super::{Accounts, Actor, Role};

/// One `user` subcommand.
#[derive(Debug, Clone)]
pub enum UserCommand {
    Create {
        username: String,
        email: String,
        admin: bool,
    },
    SetRole {
        username: String,
        role: Role,
    },
    SetPassword {
        username: String,
    },
    List {
        search: Option<String>,
    },
    Disable {
        username: String,
    },
    Enable {
        username: String,
    },
    ResetLink {
        username: String,
    },
}

/// Reads a password: prompted twice with echo off on a terminal, else one line of stdin.
pub fn read_password(prompt: &str) -> Result<String, String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let first = prompt_hidden(prompt)?;
        let second = prompt_hidden("Repeat the password: ")?;
        if first != second {
            return Err("the passwords differ".into());
        }
        return Ok(first);
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let password = line.trim_end_matches(['\n', '\r']).to_string();
    if password.is_empty() {
        return Err("no password on standard input (give it as the first line)".into());
    }
    Ok(password)
}

/// Reads one line from the terminal with echo off (a password, a token), after `prompt` on
/// stderr.
pub fn prompt_hidden(prompt: &str) -> Result<String, String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let saved = tcgetattr(&stdin).map_err(|e| format!("cannot read the terminal mode: {e}"))?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(|e| format!("cannot turn echo off: {e}"))?;
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    eprintln!();
    read.map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Runs one command; `Ok` carries what to print.
pub async fn run(accounts: &Accounts, command: UserCommand) -> Result<String, String> {
    let actor = Actor::cli();
    let err = |e: super::AccountError| e.to_string();
    match command {
        UserCommand::Create {
            username,
            email,
            admin,
        } => {
            let password = read_password("Password: ")?;
            let role = if admin { Role::Admin } else { Role::Player };
            let user = accounts
                .create_user(&username, &email, &password, role)
                .await
                .map_err(err)?;
            accounts
                .audit(
                    &actor,
                    "user.create",
                    &format!("user:{}", user.username),
                    serde_json::json!({"role": role.as_str()}),
                )
                .await
                .map_err(err)?;
            Ok(format!(
                "created {} user {} (id {})\n",
                role.as_str(),
                user.username,
                user.id
            ))
        }
        UserCommand::SetRole { username, role } => {
            let user = accounts
                .set_role(&actor, &username, role)
                .await
                .map_err(err)?;
            Ok(format!(
                "{} is now {} (their sessions ended)\n",
                user.username,
                user.role.as_str()
            ))
        }
        UserCommand::SetPassword { username } => {
            let password = read_password("New password: ")?;
            accounts
                .set_password(&actor, &username, &password)
                .await
                .map_err(err)?;
            Ok(format!(
                "password of {username} changed (their sessions ended)\n"
            ))
        }
        UserCommand::List { search } => {
            let (users, total) = accounts
                .list_users(search.as_deref(), 10_000, 0)
                .await
                .map_err(err)?;
            let mut out = format!(
                "{:<6} {:<32} {:<40} {:<7} {:<8} {}\n",
                "ID", "USERNAME", "EMAIL", "ROLE", "STATE", "GOATED UID"
            );
            for (u, _) in &users {
                out.push_str(&format!(
                    "{:<6} {:<32} {:<40} {:<7} {:<8} {}\n",
                    u.id,
                    u.username,
                    u.email,
                    u.role.as_str(),
                    if u.disabled { "disabled" } else { "active" },
                    u.goated_uid.as_deref().unwrap_or("-")
                ));
            }
            out.push_str(&format!("{total} user(s)\n"));
            Ok(out)
        }
        UserCommand::Disable { username } => {
            let ended = accounts
                .set_disabled(&actor, &username, true)
                .await
                .map_err(err)?;
            Ok(format!("{username} disabled; {ended} session(s) ended\n"))
        }
        UserCommand::ResetLink { username } => {
            let link = accounts
                .issue_reset_link(&actor, &username)
                .await
                .map_err(err)?;
            Ok(reset_link_report(&link))
        }
        UserCommand::Enable { username } => {
            accounts
                .set_disabled(&actor, &username, false)
                .await
                .map_err(err)?;
            Ok(format!("{username} enabled\n"))
        }
    }
}

/// What `user reset-link` prints: the link first (alone on its line, to copy), then what to
/// know about it.
fn reset_link_report(link: &super::password_reset::ResetLink) -> String {
    let mut out = format!("{}\n", link.shown());
    out.push_str(&format!(
        "Password reset link for {}: works once, until {}.\n",
        link.username,
        link.expires_at.format("%Y-%m-%d %H:%M UTC")
    ));
    if link.url.is_none() {
        out.push_str(
            "This is a path on the site: telegram.site_url is not set, so the site's address \
             is unknown (and nothing was sent to Telegram); put the address in front: \
             https://<your site>/reset-password?token=...\n",
        );
    }
    if link.sent_to_telegram {
        out.push_str("Also sent to the account's linked Telegram.\n");
    }
    out
}
