//! `--version`, completions and man pages: generated from the clap definitions, so each must
//! name every subcommand and every long option `--help` knows.

mod common;
use common::*;

/// (subcommand, its long options) of the real command line.
fn surface() -> Vec<(String, Vec<String>)> {
    let cmd = airlock::cli::command();
    cmd.get_subcommands()
        .map(|s| {
            let longs = s.get_arguments().filter_map(|a| a.get_long()).map(|l| format!("--{l}")).collect();
            (s.get_name().to_string(), longs)
        })
        .collect()
}

fn stdout(args: &[&str]) -> String {
    let o = airlock(args);
    assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn version_names_the_commit() {
    let v = stdout(&["--version"]);
    let want = format!("airlock {} (git ", env!("CARGO_PKG_VERSION"));
    assert!(v.starts_with(&want), "{v}");
    let commit = v.trim().trim_start_matches(&want).trim_end_matches(')');
    let hex = commit.trim_end_matches("-dirty");
    assert!(hex == "unknown" || (hex.len() == 12 && hex.chars().all(|c| c.is_ascii_hexdigit())), "{v}");
}

#[test]
fn completions_cover_every_subcommand_and_option() {
    let surface = surface();
    assert!(surface.iter().any(|(s, _)| s == "verify") && surface.len() >= 5);
    for shell in ["bash", "zsh", "fish"] {
        let text = stdout(&["completions", shell]);
        for (sub, longs) in &surface {
            assert!(text.contains(sub.as_str()), "{shell}: no {sub}");
            for l in longs {
                // fish writes `-l expect-id`, bash and zsh `--expect-id`.
                let bare = l.trim_start_matches("--");
                assert!(text.contains(l.as_str()) || text.contains(&format!("-l {bare}")), "{shell}: {sub} {l}");
            }
        }
    }
    // bash can source it.
    let script = stdout(&["completions", "bash"]);
    let st = std::process::Command::new("bash").arg("-n").arg("-c").arg(&script).status().unwrap();
    assert!(st.success(), "bash -n rejects the completion script");
}

#[test]
fn man_pages_cover_every_subcommand_and_option() {
    let d = tempdir();
    let o = airlock(&["man", "--dir", d.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    let top = std::fs::read_to_string(d.path().join("airlock.1")).unwrap();
    assert!(top.starts_with(".ie") || top.contains(".TH airlock 1"), "roff: {}", &top[..80]);
    for (sub, longs) in surface() {
        if sub == "help" {
            continue;
        }
        assert!(top.contains(&sub), "airlock.1 lists {sub}");
        let page = std::fs::read_to_string(d.path().join(format!("airlock-{sub}.1"))).unwrap();
        assert!(page.contains(&format!(".TH airlock-{sub} 1")), "airlock-{sub}.1 has its title");
        for l in longs {
            // roff escapes '-' as '\-'.
            let escaped = l.replace('-', "\\-");
            assert!(page.contains(&l) || page.contains(&escaped), "airlock-{sub}.1 lacks {l}");
        }
    }
    // `airlock man` prints the top page.
    assert_eq!(stdout(&["man"]), top);
}
