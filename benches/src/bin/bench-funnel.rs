//! The analytics bench harness: funnel, directly-follows graph, top paths, retention and effort
//! on `ecommerce_log(customers, touchpoints, 42)` (default 500,000 customers, 10,000,000
//! touchpoints), the log already in memory. Prints the best wall time of `runs` runs and the
//! peak resident memory during each analysis (the peak is reset before each one through
//! `/proc/self/clear_refs`, so it includes the log itself; "extra" is the peak minus the
//! resident size before the analysis).
//!
//! Generating the log takes a while and leaves the generator's freed memory resident, so the
//! harness writes the log's columns to `target/bench-cache/` once and measures in a fresh
//! process that only loads them.
//!
//! `cargo run --release -p jornada-benches --bin bench-funnel -- [customers] [touchpoints] [runs] [analysis…]`

use jornada::analytics::{
    directly_follows, effort, funnel, retention, top_paths, Columns, EffortSpec, EventFilter,
    EventLog, FunnelSpec, FunnelStep, PathSpec, Period, PropColumn, RetentionSpec,
};
use jornada::Duration;
use jornada_benches::{ecommerce_log, peak_rss, rss};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

// -- The column cache ---------------------------------------------------------------------------

fn put_u64(w: &mut Vec<u8>, x: u64) {
    w.extend_from_slice(&x.to_le_bytes());
}

fn put_strs(w: &mut Vec<u8>, d: &[Box<str>]) {
    put_u64(w, d.len() as u64);
    for s in d {
        put_u64(w, s.len() as u64);
        w.extend_from_slice(s.as_bytes());
    }
}

fn put_col<T: Copy, const N: usize>(w: &mut Vec<u8>, v: &[T], f: impl Fn(T) -> [u8; N]) {
    put_u64(w, v.len() as u64);
    for &x in v {
        w.extend_from_slice(&f(x));
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        a
    }
    fn u64(&mut self) -> u64 {
        u64::from_le_bytes(self.take(8).try_into().unwrap())
    }
    fn strs(&mut self) -> Vec<Box<str>> {
        let n = self.u64() as usize;
        (0..n)
            .map(|_| {
                let len = self.u64() as usize;
                std::str::from_utf8(self.take(len)).unwrap().into()
            })
            .collect()
    }
    fn col<T, const N: usize>(&mut self, f: impl Fn([u8; N]) -> T) -> Vec<T> {
        let n = self.u64() as usize;
        let bytes = self.take(n * N);
        bytes
            .chunks_exact(N)
            .map(|c| f(c.try_into().unwrap()))
            .collect()
    }
}

fn save(log: &EventLog, path: &Path) {
    let mut w = Vec::with_capacity(log.len() * 32);
    w.extend_from_slice(b"JRNDCOL1");
    put_strs(&mut w, log.customers());
    put_col(&mut w, log.customer_codes(), u32::to_le_bytes);
    put_col(&mut w, log.at(), i64::to_le_bytes);
    put_strs(&mut w, log.channels());
    put_col(&mut w, log.channel_codes(), |c| (c as u32).to_le_bytes());
    put_strs(&mut w, log.kinds());
    put_col(&mut w, log.kind_codes(), |c| (c as u32).to_le_bytes());
    put_col(&mut w, log.values(), f64::to_le_bytes);
    put_u64(&mut w, log.properties().len() as u64);
    for (name, col) in log.properties() {
        put_strs(&mut w, &[name.as_str().into()]);
        match col {
            PropColumn::Str { codes, dict } => {
                w.push(0);
                put_strs(&mut w, dict);
                put_col(&mut w, codes, u32::to_le_bytes);
            }
            PropColumn::Num(v) => {
                w.push(1);
                put_col(&mut w, v, f64::to_le_bytes);
            }
            PropColumn::Bool(v) => {
                w.push(2);
                put_col(&mut w, v, |b| [b]);
            }
        }
    }
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension("tmp");
    std::fs::File::create(&tmp).unwrap().write_all(&w).unwrap();
    std::fs::rename(tmp, path).unwrap();
}

fn load(path: &Path) -> EventLog {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let mut r = Reader(&bytes);
    assert_eq!(r.take(8), b"JRNDCOL1");
    let mut c = Columns {
        customer_dict: r.strs(),
        customer: r.col(u32::from_le_bytes),
        at: r.col(i64::from_le_bytes),
        channel_dict: r.strs(),
        channel: r.col(u32::from_le_bytes),
        kind_dict: r.strs(),
        kind: r.col(u32::from_le_bytes),
        value: r.col(f64::from_le_bytes),
        props: Vec::new(),
    };
    for _ in 0..r.u64() {
        let name = r.strs()[0].to_string();
        let col = match r.take(1)[0] {
            0 => {
                let dict = r.strs();
                PropColumn::Str {
                    dict,
                    codes: r.col(u32::from_le_bytes),
                }
            }
            1 => PropColumn::Num(r.col(f64::from_le_bytes)),
            _ => PropColumn::Bool(r.col(|b: [u8; 1]| b[0])),
        };
        c.props.push((name, col));
    }
    drop(bytes);
    EventLog::from_columns(c).unwrap()
}

fn cache_path(customers: usize, touchpoints: usize) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join(format!(
        "bench-cache/ecommerce-{customers}-{touchpoints}-42.cols"
    ))
}

/// Resets the kernel's peak-RSS mark of this process (Linux 4.0+); false where unsupported.
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// CPU time of all this process's threads, in seconds (Linux; 0 elsewhere).
fn cpu_secs() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum::<u64>() as f64
        / 1e9
}

fn mb(b: u64) -> f64 {
    b as f64 / 1e6
}

/// Runs `f` `runs` times; prints and returns the best time.
fn bench<T>(name: &str, runs: usize, mut f: impl FnMut() -> T, show: impl Fn(&T) -> String) -> f64 {
    let mut best = f64::MAX;
    let mut best_cpu = f64::MAX;
    let mut peak = 0;
    let mut extra = 0;
    let mut summary = String::new();
    for _ in 0..runs {
        let resettable = reset_peak();
        let before = rss();
        let cpu = cpu_secs();
        let t = Instant::now();
        let out = f();
        let secs = t.elapsed().as_secs_f64();
        best = best.min(secs);
        best_cpu = best_cpu.min(cpu_secs() - cpu);
        if resettable {
            peak = peak.max(peak_rss());
            extra = extra.max(peak_rss().saturating_sub(before));
        }
        summary = show(&out);
        drop(out);
    }
    println!(
        "{name:<10} best {:>6.3} s of {runs} (CPU {:>6.3} s)   peak RSS {:>6.1} MB (extra {:>6.1} MB)   {summary}",
        best,
        best_cpu,
        mb(peak),
        mb(extra)
    );
    best
}

fn funnel_spec() -> FunnelSpec {
    FunnelSpec::new(
        [
            "page_view",
            "product_view",
            "add_to_cart",
            "checkout",
            "purchase",
        ]
        .map(FunnelStep::kind),
        Duration::parse("7d").unwrap(),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nums: Vec<usize> = args
        .iter()
        .filter_map(|a| a.replace('_', "").parse().ok())
        .collect();
    let names: Vec<&str> = args
        .iter()
        .filter(|a| a.replace('_', "").parse::<usize>().is_err())
        .map(|s| s.as_str())
        .collect();
    let customers = *nums.first().unwrap_or(&500_000);
    let touchpoints = *nums.get(1).unwrap_or(&10_000_000);
    let runs = *nums.get(2).unwrap_or(&5);
    const ALL: [&str; 5] = ["funnel", "dfg", "paths", "retention", "effort"];
    if names.is_empty() {
        // One process per analysis, so each peak is the log plus that analysis alone.
        for name in ALL {
            let status = std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    customers.to_string(),
                    touchpoints.to_string(),
                    runs.to_string(),
                ])
                .arg(name)
                .status()
                .unwrap();
            assert!(status.success());
        }
        return;
    }
    let want = |n: &str| names.contains(&n);

    let path = cache_path(customers, touchpoints);
    if !path.exists() {
        let t = Instant::now();
        let log = ecommerce_log(customers, touchpoints, 42);
        save(&log, &path);
        eprintln!(
            "generated the log in {:.1?}, cached at {}",
            t.elapsed(),
            path.display()
        );
        // Measure in a fresh process, without the generator's freed memory.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(std::env::args().skip(1))
            .status()
            .unwrap();
        std::process::exit(status.code().unwrap_or(1));
    }
    let t = Instant::now();
    let log = load(&path);
    println!(
        "log: {} events, {} customers, {} channels, {} kinds, {:.0} MB of columns; loaded in {:.1?}; RSS {:.0} MB",
        log.len(),
        log.n_customers(),
        log.channels().len(),
        log.kinds().len(),
        mb(log.memory_bytes() as u64),
        t.elapsed(),
        mb(rss())
    );
    println!(
        "cores: {}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    if want("funnel") {
        let spec = funnel_spec();
        bench(
            "funnel",
            runs,
            || funnel(&log, &spec).unwrap(),
            |r| {
                let c: Vec<u64> = r.steps.iter().map(|s| s.customers).collect();
                format!("customers per step {c:?}")
            },
        );
    }
    if want("dfg") {
        let spec = PathSpec::default();
        bench(
            "dfg",
            runs,
            || directly_follows(&log, &spec).unwrap(),
            |g| {
                let t: u64 = g.edges.iter().map(|e| e.count).sum();
                format!("{} edges, {t} transitions", g.edges.len())
            },
        );
    }
    if want("paths") {
        let spec = PathSpec {
            max_steps: 5,
            top: 20,
            conversion: Some(EventFilter::kind("purchase")),
            ..PathSpec::default()
        };
        bench(
            "paths",
            runs,
            || top_paths(&log, &spec).unwrap(),
            |p| {
                let v = &p.variants[0];
                format!(
                    "{} distinct; top: {} ({} customers, {:.1}% converted)",
                    p.distinct,
                    v.steps.join(">"),
                    v.customers,
                    100.0 * v.conversion
                )
            },
        );
    }
    if want("retention") {
        let spec = RetentionSpec {
            repeat: Some(EventFilter::kind("purchase")),
            ..RetentionSpec::new(Period::Week)
        };
        bench(
            "retention",
            runs,
            || retention(&log, &spec).unwrap(),
            |r| {
                let w1 = r.total.get(1).map_or(0.0, |t| t.share);
                format!(
                    "{} weekly cohorts, week-1 retention {:.1}%, repeat purchase {:.1}%",
                    r.cohorts.len(),
                    100.0 * w1,
                    100.0 * r.repeat.as_ref().map_or(0.0, |x| x.rate)
                )
            },
        );
    }
    if want("effort") {
        let spec = EffortSpec::default();
        bench(
            "effort",
            runs,
            || effort(&log, &spec).unwrap(),
            |r| {
                let s = &r.summary;
                format!(
                    "median touches to purchase {:?}, abandonment {:.1}%, recovery {:.1}%, {} sessions",
                    s.median_touches_to_conversion,
                    100.0 * s.abandonment_rate,
                    100.0 * s.recovery_rate,
                    s.sessions
                )
            },
        );
    }
}
