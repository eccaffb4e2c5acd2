//! A proxy in front of the test sshd that cuts its connections, on demand or when the engine reports an event.

/// A TCP proxy to the test sshd that, once cut, drops every connection through it and refuses new ones, as a
/// network that went away would.
pub struct Cutter {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Cutter {
    /// Starts the proxy in front of sshd on `sshd_port`.
    pub fn start(sshd_port: u16) -> Cutter {
        Cutter::proxy(sshd_port, u64::MAX)
    }

    /// Starts the proxy, which cuts for good once `limit` bytes have gone from the client to sshd: an upload
    /// interrupted part way, at the same point every run.
    pub fn after_bytes(sshd_port: u16, limit: u64) -> Cutter {
        Cutter::proxy(sshd_port, limit)
    }

    /// The port of the proxy, for a host string `root@127.0.0.1:PORT`.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn proxy(sshd_port: u16, limit: u64) -> Cutter {
        use std::io::{Read, Write};
        use std::sync::atomic::{AtomicU64, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("proxy port");
        let port = listener.local_addr().expect("address").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::<std::net::TcpStream>::new()));
        let sent = std::sync::Arc::new(AtomicU64::new(0));
        let (flag, streams) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                if flag.load(Ordering::SeqCst) {
                    continue;
                }
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", sshd_port)) else {
                    continue;
                };
                let mut all = streams.lock().expect("proxy streams");
                for (upstream, (from, to)) in
                    [(true, (&client, &server)), (false, (&server, &client))]
                {
                    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                        continue;
                    };
                    let (flag, streams, sent) = (flag.clone(), streams.clone(), sent.clone());
                    std::thread::spawn(move || {
                        let mut buffer = vec![0u8; 64 * 1024];
                        while let Ok(n) = from.read(&mut buffer) {
                            if n == 0 || to.write_all(&buffer[..n]).is_err() {
                                break;
                            }
                            if upstream
                                && sent.fetch_add(n as u64, Ordering::SeqCst) + n as u64 >= limit
                            {
                                flag.store(true, Ordering::SeqCst);
                                for stream in streams.lock().expect("proxy streams").iter() {
                                    let _ = stream.shutdown(std::net::Shutdown::Both);
                                }
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                all.extend([client, server]);
            }
        });
        Cutter { port, cut, open }
    }

    /// Drops every connection now and refuses the next ones.
    pub fn cut(&self) {
        self.cut.store(true, std::sync::atomic::Ordering::SeqCst);
        self.drop_open();
    }

    /// Drops every connection now; new ones still pass, as after a network blip.
    pub fn drop_open(&self) {
        for stream in self.open.lock().expect("proxy streams").iter() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// What the proxy does when the event comes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// Drops the connections and refuses new ones: the network is gone.
    ForGood,
    /// Drops the connections; a reconnection passes.
    Once,
}

/// Runs `task` through a proxy to sshd on `port` and cuts the connection when `engine` (the default engine for
/// `None`) reports `event` (type, action prefix, the object's name); returns the run's status once what the engine
/// was still doing when the connection went (a preparation, say) has ended.
pub fn cut_at(
    port: u16,
    engine: Option<&str>,
    event: (&str, &str, &str),
    how: Cut,
    task: impl FnOnce(&str) -> i32,
) -> i32 {
    let proxy = Cutter::start(port);
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs_f64();
    // Replayed from now on, so that an event before the stream is set up is not missed.
    let mut events = std::process::Command::new("docker")
        .args(engine.map(|e| vec!["-H", e]).unwrap_or_default())
        .args([
            "events",
            "--since",
            &format!("{since:.6}"),
            "--format",
            "{{.Type}}|{{.Action}}|{{.Actor.ID}}|{{.Actor.Attributes.name}}",
        ])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("docker events");
    let lines = events.stdout.take().expect("events output");
    let wanted = (event.0.to_owned(), event.1.to_owned(), event.2.to_owned());
    let cutter = Cutter {
        port: proxy.port,
        cut: proxy.cut.clone(),
        open: proxy.open.clone(),
    };
    let watcher = std::thread::spawn(move || {
        use std::io::BufRead;
        let mut seen = Vec::new();
        for line in std::io::BufReader::new(lines).lines().map_while(Result::ok) {
            // Volumes are named by their ID, containers and networks by their name attribute.
            let fields: Vec<&str> = line.split('|').collect();
            if let [kind, action, id, name] = fields[..] {
                if kind == wanted.0
                    && action.starts_with(&wanted.1)
                    && (id == wanted.2 || name == wanted.2)
                {
                    match how {
                        Cut::ForGood => cutter.cut(),
                        Cut::Once => cutter.drop_open(),
                    }
                    return Ok(());
                }
            }
            seen.push(line);
        }
        Err(seen)
    });
    let status = task(&format!("root@127.0.0.1:{}", proxy.port));
    let _ = events.kill();
    let _ = events.wait();
    if let Err(seen) = watcher.join().expect("watcher") {
        panic!("no {event:?} event (status {status}) among {seen:#?}");
    }
    std::thread::sleep(std::time::Duration::from_millis(1500));
    status
}
