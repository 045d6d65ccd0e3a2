//! `--version`, completions and man pages: generated from the clap definitions, so each must
//! name every subcommand and every long option `--help` knows.

mod common;
use common::*;

/// (subcommand, its long options) of the real command line.
fn surface() -> Vec<(String, Vec<String>)> {
    let cmd = airlock::testing::command();
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

/// The pages carry what the README had alone: EXAMPLES (from each command's help), EXIT
/// STATUS, the finding codes with their severities, and where the JSON Schema is.
#[test]
fn man_pages_carry_examples_exit_status_codes_and_json() {
    let d = tempdir();
    assert_eq!(airlock(&["man", "--dir", d.path().to_str().unwrap()]).status.code(), Some(0));
    let page = |name: &str| std::fs::read_to_string(d.path().join(format!("{name}.1"))).unwrap();
    let section = |text: &str, title: &str| -> String {
        let start = text.find(&format!(".SH \"{title}\"")).or_else(|| text.find(&format!(".SH {title}")));
        let start = start.unwrap_or_else(|| panic!("no {title} section"));
        let rest = &text[start + 4..];
        rest[..rest.find("\n.SH ").unwrap_or(rest.len())].to_string()
    };
    for name in ["airlock", "airlock-verify", "airlock-convert", "airlock-lock"] {
        let text = page(name);
        let codes = section(&text, "FINDING CODES");
        for c in airlock::finding::Code::ALL {
            let escaped = c.as_str().replace('-', "\\-");
            assert!(codes.contains(&escaped), "{name}.1: no {}", c.as_str());
        }
        assert!(codes.contains("error") && codes.contains("warning"), "{name}.1: severities");
    }
    for name in ["airlock", "airlock-verify", "airlock-inspect", "airlock-convert", "airlock-delta", "airlock-apply"] {
        let text = page(name);
        let exit = section(&text, "EXIT STATUS");
        for code in ["0", "1", "2", "130"] {
            assert!(exit.contains(&format!("\n.TP\n\\fB{code}\\fR")), "{name}.1: exit status {code}: {exit}");
        }
        assert!(section(&text, "EXAMPLES").contains("airlock"), "{name}.1: examples");
        assert!(section(&text, "JSON OUTPUT").contains("airlock schema"), "{name}.1: the schema command");
    }
    assert!(section(&page("airlock-verify"), "JSON OUTPUT").contains("airlock.verify/v2"));
    assert!(!page("airlock-inspect").contains("FINDING CODES"), "inspect's page points to verify's");
    // The rule tables reach users with their sources: --target's and export's.
    let esc = |s: &str| s.replace('\\', "\\e").replace('-', "\\-").replace('\'', "\\*(Aq");
    let rules = section(&page("airlock-verify"), "TARGET RULES");
    for r in airlock::testing::TARGET_RULES {
        assert!(rules.contains(&esc(r.id)), "airlock-verify.1: rule {}", r.id);
        assert!(rules.contains(&esc(r.source)), "airlock-verify.1: the source of {}", r.id);
    }
    let overlay = section(&page("airlock-export"), "OVERLAY RULES");
    for r in airlock::testing::OVERLAY_RULES {
        assert!(overlay.contains(&esc(r.name)) && overlay.contains(&esc(r.source)), "airlock-export.1: {}", r.name);
    }
    assert!(
        section(&page("airlock-verify"), "SIGNATURES").contains("application/vnd.dev.cosign.simplesigning.v1+json")
    );
}
