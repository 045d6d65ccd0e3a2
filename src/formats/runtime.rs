//! What an image runs with, for `inspect` to show (`docker inspect`'s `.Config`, `.Created`):
//! the `config` object of the image config (moby `container.Config`, OCI `ImageConfig`) and
//! `created`. Display only: the checks never read it. It is read with the same key rules as
//! the config itself (`json_keys`), so a config Go would read differently shows nothing here
//! (the model reports it); a field of an unexpected type is shown as absent.

use super::json_keys;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunConfig {
    pub created: Option<String>,
    pub user: Option<String>,
    pub working_dir: Option<String>,
    pub entrypoint: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub env: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// `80/tcp`, as the keys of `ExposedPorts`.
    pub exposed_ports: Vec<String>,
    /// The keys of `Volumes` (present only when there are some).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<String>,
}

#[derive(Deserialize)]
struct Doc {
    #[serde(default)]
    created: Option<Value>,
    #[serde(default)]
    config: Option<Config>,
}

#[derive(Deserialize)]
#[allow(non_snake_case)]
struct Config {
    #[serde(default)]
    User: Option<Value>,
    #[serde(default)]
    WorkingDir: Option<Value>,
    #[serde(default)]
    Entrypoint: Option<Value>,
    #[serde(default)]
    Cmd: Option<Value>,
    #[serde(default)]
    Env: Option<Value>,
    #[serde(default)]
    Labels: Option<Value>,
    #[serde(default)]
    ExposedPorts: Option<Value>,
    #[serde(default)]
    Volumes: Option<Value>,
}

/// The run configuration of an image config's bytes; `None` if Go would read the document
/// differently or it is not a JSON object.
pub fn read(bytes: &[u8]) -> Option<RunConfig> {
    let parsed = json_keys::parse::<Doc>(bytes, &json_keys::IMAGE_CONFIG);
    if !parsed.ambiguous.is_empty() {
        return None;
    }
    let doc = parsed.value.ok()?;
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(s),
        _ => None,
    };
    let mut run = RunConfig { created: text(doc.created), ..RunConfig::default() };
    let Some(c) = doc.config else { return Some(run) };
    run.user = text(c.User);
    run.working_dir = text(c.WorkingDir);
    run.entrypoint = str_slice(c.Entrypoint);
    run.cmd = str_slice(c.Cmd);
    run.env = str_slice(c.Env).unwrap_or_default();
    if let Some(Value::Object(m)) = c.Labels {
        run.labels = m.into_iter().filter_map(|(k, v)| Some((k, v.as_str()?.to_string()))).collect();
    }
    if let Some(Value::Object(m)) = c.ExposedPorts {
        run.exposed_ports = m.into_iter().map(|(k, _)| k).collect();
    }
    if let Some(Value::Object(m)) = c.Volumes {
        run.volumes = m.into_iter().map(|(k, _)| k).collect();
    }
    Some(run)
}

/// moby's `strslice.StrSlice`: an array of strings, or one string (a one-element list);
/// `null` is none.
fn str_slice(v: Option<Value>) -> Option<Vec<String>> {
    match v? {
        Value::String(s) => Some(vec![s]),
        Value::Array(a) => a.into_iter().map(|x| x.as_str().map(str::to_string)).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_docker_inspect_shows() {
        let doc = br#"{"created":"2026-11-23T17:51:54Z","architecture":"amd64","os":"linux",
            "config":{"User":"app","WorkingDir":"/data","Entrypoint":"/bin/sh","Cmd":["-c","run"],
            "Env":["PATH=/bin","A=b"],"Labels":{"z":"1","a":"2"},"ExposedPorts":{"80/tcp":{},"53/udp":{}},"Volumes":{"/data":{}}},
            "rootfs":{"type":"layers","diff_ids":[]}}"#;
        let r = read(doc).unwrap();
        assert_eq!(
            r,
            RunConfig {
                created: Some("2026-11-23T17:51:54Z".into()),
                user: Some("app".into()),
                working_dir: Some("/data".into()),
                entrypoint: Some(vec!["/bin/sh".into()]),
                cmd: Some(vec!["-c".into(), "run".into()]),
                env: vec!["PATH=/bin".into(), "A=b".into()],
                labels: [("a".to_string(), "2".to_string()), ("z".to_string(), "1".to_string())].into(),
                exposed_ports: vec!["53/udp".into(), "80/tcp".into()],
                volumes: vec!["/data".into()],
            }
        );
        // No config object, a null Cmd, a number where a string goes: shown as absent.
        assert_eq!(read(br#"{"rootfs":{"diff_ids":[]}}"#), Some(RunConfig::default()));
        let odd = read(br#"{"created":5,"config":{"Cmd":null,"User":7,"Env":["a",1]}}"#).unwrap();
        assert_eq!(odd, RunConfig::default());
        // A key Go folds onto another: nothing shown (the model reports the config).
        assert_eq!(read(br#"{"config":{"Cmd":["a"],"cmd":["b"]}}"#), None);
        assert_eq!(read(b"[1]"), None);
    }
}
