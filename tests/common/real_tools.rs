//! The container runtimes a test may use, and only those.
//!
//! A test touches a runtime only when one of these holds:
//! - `scripts/real-tools.sh up` started it in its state directory (`AIRLOCK_TOOLS_DIR`, default
//!   `/tmp/airlock-tools`): the directory holds the script's marker file, its `runtimes` file
//!   lists the runtime as up with its socket inside the directory, and the daemon itself says
//!   it keeps its data there (dockerd's `DockerRootDir`, containerd's content store root);
//! - the user named it through a variable that says it will be emptied:
//!   `AIRLOCK_INTEROP_DOCKER_HOST_TO_EMPTY=unix:///path/to/docker.sock` (the docker tests delete
//!   every image in it) or `AIRLOCK_INTEROP_CONTAINERD_SOCK_TO_EMPTY=/path/to/containerd.sock`
//!   (the containerd tests import into namespaces of their own, `airlock-interop-…`, and remove
//!   them).
//!
//! `DOCKER_HOST`, `DOCKER_CONTEXT`, `CONTAINERD_ADDRESS`, `CONTAINER_HOST` and the like are never
//! read: every command built here names its daemon explicitly and drops them. podman has no
//! daemon; it always runs on stores in a directory the test owns (`--root`, `--runroot`,
//! `--tmpdir`), never on the machine's.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

pub const DOCKER_OPT_IN: &str = "AIRLOCK_INTEROP_DOCKER_HOST_TO_EMPTY";
pub const CONTAINERD_OPT_IN: &str = "AIRLOCK_INTEROP_CONTAINERD_SOCK_TO_EMPTY";
/// The marker scripts/real-tools.sh writes into its state directory, and its first line.
pub const MARKER: &str = "airlock-real-tools";
pub const MARKER_LINE: &str = "airlock real-tools state directory, format 1";

/// What scripts/real-tools.sh brings up; under `AIRLOCK_REQUIRE_INTEROP=1` each one must be up.
/// The system's (Debian 12) docker 20.10, containerd 1.6 and podman 4.3; Debian trixie's docker
/// 26.1, containerd 1.7 and podman 5.4; sid's docker 28.5, with its graph driver and with the
/// containerd image store (Docker 29's default, so named `docker@29`), and containerd 2.1.
pub const EXPECTED: &[&str] = &[
    "docker@20.10",
    "docker@26.1",
    "docker@28.5",
    "docker@29",
    "containerd@1.6",
    "containerd@1.7",
    "containerd@2.1",
    "podman@4.3",
    "podman@5.4",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Docker,
    Containerd,
    Podman,
}

impl Kind {
    fn parse(s: &str) -> Option<Kind> {
        match s {
            "docker" => Some(Kind::Docker),
            "containerd" => Some(Kind::Containerd),
            "podman" => Some(Kind::Podman),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Runtime {
    /// As a `--target`: `docker@20.10`, `docker@29`, `containerd@2.1`, `podman@4.3`.
    pub name: String,
    pub kind: Kind,
    /// The client: docker's CLI, `ctr`, podman.
    pub cli: PathBuf,
    /// docker: `unix://…/sock`; containerd: the socket path; podman: the state directory's own.
    pub endpoint: String,
    /// The version the runtime reported, and how it runs.
    pub detail: String,
    /// Named by the user through an opt-in variable, not started by real-tools.sh.
    pub opt_in: bool,
}

/// One runtime the state directory or an opt-in names: usable, or why not.
#[derive(Debug, Clone)]
pub enum Entry {
    Up(Runtime),
    Down { name: String, why: String },
}

impl Entry {
    pub fn name(&self) -> &str {
        match self {
            Entry::Up(r) => &r.name,
            Entry::Down { name, .. } => name,
        }
    }
}

pub fn state_dir() -> PathBuf {
    std::env::var_os("AIRLOCK_TOOLS_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp/airlock-tools"))
}

/// Every runtime the tests may consider, verified once per test process: the state
/// directory's, then the opt-in ones. Empty when there is neither.
pub fn entries() -> &'static [Entry] {
    static ALL: OnceLock<Vec<Entry>> = OnceLock::new();
    ALL.get_or_init(|| {
        let mut all = from_state_dir(&state_dir());
        all.extend(opt_ins());
        all
    })
}

/// The reason the state directory is not usable at all, if it is not (for skip messages).
pub fn state_dir_problem() -> Option<String> {
    let dir = state_dir();
    let marker = std::fs::read_to_string(dir.join(MARKER)).ok();
    if marker.as_deref().and_then(|m| m.lines().next()) != Some(MARKER_LINE) {
        return Some(format!("{} holds no {MARKER} marker of scripts/real-tools.sh", dir.display()));
    }
    if !dir.join("runtimes").is_file() {
        return Some(format!("{} lists no runtimes (real-tools.sh up did not finish)", dir.display()));
    }
    None
}

fn from_state_dir(dir: &Path) -> Vec<Entry> {
    if state_dir_problem().is_some() {
        return Vec::new();
    }
    let Ok(dir) = dir.canonicalize() else { return Vec::new() };
    let text = std::fs::read_to_string(dir.join("runtimes")).unwrap_or_default();
    text.lines().filter(|l| !l.trim().is_empty()).map(|line| entry_of_line(&dir, line)).collect()
}

/// `NAME KIND STATE ENDPOINT CLI DETAIL`, tab-separated, as real-tools.sh writes it.
fn entry_of_line(dir: &Path, line: &str) -> Entry {
    let f: Vec<&str> = line.split('\t').collect();
    let name = f.first().copied().unwrap_or("?").to_string();
    let down = |why: String| Entry::Down { name: name.clone(), why };
    let [_, kind, state, endpoint, cli, detail] = f[..] else {
        return down(format!("malformed line in {}/runtimes: {line:?}", dir.display()));
    };
    if state != "up" {
        return down(format!("real-tools.sh could not bring it up: {detail}"));
    }
    let Some(kind) = Kind::parse(kind) else { return down(format!("unknown kind {kind:?}")) };
    let rt = Runtime {
        name: name.clone(),
        kind,
        cli: PathBuf::from(cli),
        endpoint: endpoint.to_string(),
        detail: detail.into(),
        opt_in: false,
    };
    match verify_owned(dir, &rt) {
        Ok(()) => Entry::Up(rt),
        Err(why) => down(why),
    }
}

/// The directory a runtime keeps its socket and data in: a direct subdirectory of the state
/// directory, named by the endpoint (before anything is asked of the daemon).
fn runtime_dir(state: &Path, rt: &Runtime) -> Result<PathBuf, String> {
    let path = match rt.kind {
        Kind::Docker => Path::new(rt.endpoint.strip_prefix("unix://").unwrap_or("")).parent(),
        Kind::Containerd => Path::new(&rt.endpoint).parent(),
        Kind::Podman => Some(Path::new(&rt.endpoint)),
    };
    let outside = || format!("{} is not inside the state directory {}", rt.endpoint, state.display());
    let path = path.filter(|p| p.is_absolute()).ok_or_else(outside)?;
    let canon = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
    if canon.parent() != Some(state) || path != canon {
        return Err(outside());
    }
    Ok(canon)
}

/// The runtime is the one real-tools.sh started in `state`: its socket is there, and the
/// daemon says it keeps its data there.
fn verify_owned(state: &Path, rt: &Runtime) -> Result<(), String> {
    let dir = runtime_dir(state, rt)?;
    if !rt.cli.is_file() {
        return Err(format!("{} is not a program", rt.cli.display()));
    }
    match rt.kind {
        Kind::Docker => {
            let root = ask(rt.command().args(["info", "--format", "{{.DockerRootDir}}"]))?;
            let want = dir.join("root");
            (Path::new(root.trim()) == want).then_some(()).ok_or_else(|| {
                format!("the daemon on {} keeps its data in {:?}, not {}", rt.endpoint, root.trim(), want.display())
            })
        }
        Kind::Containerd => {
            let plugins = ask(rt.command().args(["plugins", "ls", "-d"]))?;
            let want = dir.join("root/io.containerd.content.v1.content");
            let roots: Vec<&str> = plugins
                .lines()
                .filter_map(|l| match l.split_whitespace().collect::<Vec<_>>()[..] {
                    ["root", r] if r.ends_with("io.containerd.content.v1.content") => Some(r),
                    _ => None,
                })
                .collect();
            (roots == [want.to_string_lossy()]).then_some(()).ok_or_else(|| {
                format!("containerd on {} keeps its content in {roots:?}, not {}", rt.endpoint, want.display())
            })
        }
        Kind::Podman => Ok(()),
    }
}

fn ask(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {:?}: {e}", cmd.get_program()))?;
    if !out.status.success() {
        return Err(format!(
            "{:?} {:?} failed: {}",
            cmd.get_program(),
            cmd.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The runtimes the user handed over explicitly, named by what they report.
fn opt_ins() -> Vec<Entry> {
    let mut out = Vec::new();
    let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
    if let Some(host) = var(DOCKER_OPT_IN) {
        let cli = which("docker").unwrap_or_else(|| PathBuf::from("docker"));
        let mut rt = Runtime {
            name: String::new(),
            kind: Kind::Docker,
            cli,
            endpoint: host,
            detail: DOCKER_OPT_IN.into(),
            opt_in: true,
        };
        let probe = ask(rt.command().args(["info", "--format", "{{.ServerVersion}} {{json .DriverStatus}}"]));
        out.push(match probe {
            Ok(info) => {
                let (version, status) = info.trim().split_once(' ').unwrap_or((info.trim(), ""));
                rt.name = if status.contains("io.containerd.snapshotter") {
                    "docker@29".into()
                } else {
                    format!("docker@{}", major_minor(version))
                };
                Entry::Up(rt)
            }
            Err(why) => Entry::Down { name: format!("{DOCKER_OPT_IN} docker"), why },
        });
    }
    if let Some(sock) = var(CONTAINERD_OPT_IN) {
        let cli = which("ctr").unwrap_or_else(|| PathBuf::from("ctr"));
        let mut rt = Runtime {
            name: String::new(),
            kind: Kind::Containerd,
            cli,
            endpoint: sock,
            detail: CONTAINERD_OPT_IN.into(),
            opt_in: true,
        };
        out.push(match ask(rt.command().arg("version")) {
            Ok(v) => {
                let server = v.split("Server:").nth(1).unwrap_or("");
                let version = server.lines().find_map(|l| l.trim().strip_prefix("Version:")).unwrap_or("").trim();
                rt.name = format!("containerd@{}", major_minor(version.trim_start_matches('v')));
                Entry::Up(rt)
            }
            Err(why) => Entry::Down { name: format!("{CONTAINERD_OPT_IN} containerd"), why },
        });
    }
    out
}

fn major_minor(v: &str) -> String {
    v.split('.').take(2).collect::<Vec<_>>().join(".")
}

/// A program in PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(name)).find(|c| c.is_file())
}

impl Runtime {
    /// The runtime's client, bound to this runtime: docker with `DOCKER_HOST` set to its socket
    /// (and the environment's context and TLS settings dropped), `ctr -a SOCKET`. For podman,
    /// use `podman_command`.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.cli);
        match self.kind {
            Kind::Docker => {
                for k in ["DOCKER_CONTEXT", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_TLS"] {
                    c.env_remove(k);
                }
                c.env("DOCKER_HOST", &self.endpoint);
            }
            Kind::Containerd => {
                c.env_remove("CONTAINERD_ADDRESS").env_remove("CONTAINERD_NAMESPACE");
                c.args(["-a", self.endpoint.as_str()]);
            }
            Kind::Podman => panic!("{}: podman runs on stores of the test's own: use podman_command", self.name),
        }
        c
    }

    /// podman on stores under `stores` (a directory the test owns), never the machine's: vfs,
    /// no events, no remote service.
    pub fn podman_command(&self, stores: &Path) -> Command {
        assert_eq!(self.kind, Kind::Podman, "{} is not podman", self.name);
        let mut c = Command::new(&self.cli);
        for k in ["CONTAINER_HOST", "CONTAINER_CONNECTION", "CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF"] {
            c.env_remove(k);
        }
        c.env("PODMAN_IGNORE_CGROUPSV1_WARNING", "1");
        c.arg("--root").arg(stores.join("root"));
        c.arg("--runroot").arg(stores.join("run"));
        c.arg("--tmpdir").arg(stores.join("tmp"));
        c.args([
            "--remote=false",
            "--storage-driver",
            "vfs",
            "--cgroup-manager",
            "cgroupfs",
            "--events-backend",
            "none",
        ]);
        c
    }
}

impl Runtime {
    /// Empties a docker's store for a load that reads every layer from the archive:
    /// `docker rm -f` every container, `docker rmi -f` every image, `docker system prune -af`,
    /// then checks on disk that no layer is left ([`stored_layers`]). A load skips a layer the
    /// store already has, so one that no image uses (left by an earlier experiment in the same
    /// state directory: docker 26.1 kept some) can make a broken archive load. Such a layer is
    /// a panic naming it: no docker command removes it, and files are not deleted under a
    /// running daemon.
    #[allow(dead_code)] // not every test binary that includes common loads into docker
    pub fn empty_docker_store(&self) {
        let ids = |args: &[&str]| -> Vec<String> {
            let out = ask(self.command().args(args)).unwrap_or_else(|e| panic!("{}: {e}", self.name));
            out.split_whitespace().map(str::to_string).collect()
        };
        let containers = ids(&["ps", "-aq"]);
        if !containers.is_empty() {
            ask(self.command().args(["rm", "-f"]).args(&containers)).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        }
        let images = ids(&["images", "-aq", "--no-trunc"]);
        if !images.is_empty() {
            ask(self.command().args(["rmi", "-f"]).args(&images)).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        }
        ask(self.command().args(["system", "prune", "-af"])).unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let left = ids(&["images", "-aq", "--no-trunc"]);
        assert!(left.is_empty(), "{}: images left after rm -f, rmi -f and prune: {left:?}", self.name);
        let info =
            ask(self.command().args(["info", "--format", "{{.DockerRootDir}}\t{{.Driver}}\t{{json .DriverStatus}}"]))
                .unwrap_or_else(|e| panic!("{}: {e}", self.name));
        let f: Vec<&str> = info.trim().splitn(3, '\t').collect();
        let [root, driver, status] = f[..] else { panic!("{}: docker info said {info:?}", self.name) };
        let root = Path::new(root);
        if !root.is_dir() {
            // An opt-in daemon whose data is not on this machine: nothing to look at.
            return;
        }
        let store = if status.contains("io.containerd.snapshotter") { Store::Containerd } else { Store::Graph };
        // The containerd store collects content after a removal: give it a moment.
        let mut layers = stored_layers(root, driver, store);
        for _ in 0..20 {
            if layers.is_empty() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(250));
            layers = stored_layers(root, driver, store);
        }
        panic!(
            "{}: the store holds no image, yet keeps layers a load would reuse instead of reading the \
             archive's: {layers:#?}\nStart from a fresh state directory: `source scripts/real-tools.sh down`, \
             remove {}, `source scripts/real-tools.sh up`",
            self.name,
            root.display()
        );
    }
}

/// How a docker keeps layers: its graph driver's layer store, or containerd's (Docker 29's
/// default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Store {
    Graph,
    Containerd,
}

/// The layers a docker keeps under its data root `root`, whatever image uses them, as paths:
/// a graph driver's layer store (`image/DRIVER/layerdb/sha256/CHAIN_ID`); with the containerd
/// store, the content store's blobs and every snapshotter's snapshots (the containerd it
/// manages keeps both under `containerd/daemon`).
pub fn stored_layers(root: &Path, driver: &str, store: Store) -> Vec<PathBuf> {
    let entries = |dir: PathBuf| -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = match std::fs::read_dir(&dir) {
            Ok(rd) => rd.map(|e| e.unwrap_or_else(|e| panic!("{}: {e}", dir.display())).path()).collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => panic!("{}: {e}", dir.display()),
        };
        v.sort();
        v
    };
    match store {
        Store::Graph => entries(root.join("image").join(driver).join("layerdb/sha256")),
        Store::Containerd => {
            let daemon = root.join("containerd/daemon");
            let mut all = entries(daemon.join("io.containerd.content.v1.content/blobs/sha256"));
            for dir in entries(daemon.clone()) {
                let is_snapshotter = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("io.containerd.snapshotter."));
                if is_snapshotter {
                    all.extend(entries(dir.join("snapshots")));
                }
            }
            all
        }
    }
}
