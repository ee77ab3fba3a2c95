//! The fast way in for lists of touchpoint objects (`ingestMany`, `ingestManyAsync`): rows of a
//! core [`TouchpointBatch`], no JSON text.
//!
//! Reading an object field by field through Node-API costs about six calls per field. Instead a
//! small JavaScript function ([`PACK`], compiled once per thread) walks a slice of the list with
//! V8's own property access and writes each *plain* touchpoint (an object literal whose fields are
//! the touchpoint's own, with values of the types the canonical JSON form takes) as field codes
//! into an `Int32Array`, its numbers into a `Float64Array` and its strings into one joined string
//! (with their UTF-16 lengths): four Node-API calls per slice of thousands of touchpoints. Rust
//! turns those into [`Row`]s of a [`TouchpointBatch`]; the core checks them.
//!
//! Every other element, and every element the packer gives up on (an unknown field, a value of
//! another type, a `NaN`, a class instance, a getter that throws, a time or number the canonical
//! form would write differently), takes the general path: written as canonical JSON by
//! [`Writer`], read by the core's JSON reader ([`jornada::Touchpoint::from_json`]), added to the
//! batch. So the accepted touchpoints and their effect are exactly those of the JSON path.
//!
//! Errors: when the core rejects a row of the batch, the error it gives may differ from the JSON
//! reader's for a touchpoint with several problems (the JSON reader reports the first problem in
//! field order, the row checks go in a fixed order). [`FastBatch::apply`]'s caller therefore
//! re-reads each rejected element through the JSON path (`fix_rejected`) and keeps the JSON
//! reader's error: rejections are exactly those of writing every element as JSON. (Re-reading runs
//! getters of rejected elements a second time.)

use crate::to_json::{Fail, Writer};
use jornada::batch::Row;
use jornada::{Error, Model, PropValue, Rejected, Timestamp, TouchpointBatch};
use napi::sys;
use smallvec::SmallVec;
use std::cell::Cell;
use std::ptr;
use std::time::Instant;

/// The packer. `pack(list, hdr, ops, nums, lens, one)` converts `list[hdr[0]..hdr[1])`, or
/// `one` as the only element when `list` is `null` (stopping early when a typed array is full),
/// sets `hdr` to `[reached, ops used, numbers used, strings
/// used]` and returns the strings joined.
///
/// Codes in `ops`, per element: `1` alone (take the general path), or fields followed by `0`:
/// `2` id, `3` channel, `4` kind, `5` time as text (a string each); `6` time as a number, `7`
/// value (a number each); `8` property with a string (name, value: two strings), `9` with a number
/// (name; a number), `10`/`11` with `true`/`false` (name); `14` any other field with `null`
/// (its name), `15` any other field with a string (name, value): an identity kind of the model,
/// or an unknown field (Rust sends such elements to the general path). Fields come in the
/// object's own key order (as the JSON writer reads them: own enumerable keys; `for-in` is used,
/// and a polluted `Object.prototype` sends every element to the general path); `undefined`
/// values are absent and `null` ones are where JSON reads `null` as absent.
pub(crate) const PACK: &str = r#"(function () {
  'use strict';
  var OP = Object.prototype, DP = Date.prototype, getProto = Object.getPrototypeOf;
  var getTime = Date.prototype.getTime;
  return function pack(list, hdr, ops, nums, lens, one) {
    var start = hdr[0], end = hdr[1], k;
    var polluted = false;
    for (k in OP) { polluted = true; break; }
    var text = '', o = 0, nn = 0, ns = 0, OC = ops.length - 1, NC = nums.length, SC = lens.length;
    var i = start;
    for (; i < end; i++) {
      var o0 = o, nn0 = nn, ns0 = ns, text0 = text, ok = true;
      try {
        var t = list === null ? one : list[i];
        if (polluted || t === null || typeof t !== 'object' || getProto(t) !== OP) ok = false;
        else {
          fields: for (var key in t) {
            var v = t[key];
            if (v === undefined) continue;
            switch (key) {
              case 'id':
                if (v === null) break;
                if (typeof v !== 'string') { ok = false; break fields; }
                ops[o++] = 2; text += v; lens[ns++] = v.length; break;
              case 'channel':
                if (typeof v !== 'string') { ok = false; break fields; }
                ops[o++] = 3; text += v; lens[ns++] = v.length; break;
              case 'kind':
                if (typeof v !== 'string') { ok = false; break fields; }
                ops[o++] = 4; text += v; lens[ns++] = v.length; break;
              case 'at':
                if (typeof v === 'number') { ops[o++] = 6; nums[nn++] = v; }
                else if (typeof v === 'string') { ops[o++] = 5; text += v; lens[ns++] = v.length; }
                else if (v !== null && typeof v === 'object' && getProto(v) === DP) { ops[o++] = 6; nums[nn++] = getTime.call(v); }
                else { ok = false; break fields; }
                break;
              case 'value':
                if (v === null) break;
                if (typeof v !== 'number') { ok = false; break fields; }
                ops[o++] = 7; nums[nn++] = v; break;
              case 'properties':
                if (v === null) break;
                if (typeof v !== 'object' || getProto(v) !== OP) { ok = false; break fields; }
                for (var name in v) {
                  var pv = v[name];
                  if (pv === undefined || pv === null) continue;
                  if (typeof pv === 'string') { ops[o++] = 8; text += name; lens[ns++] = name.length; text += pv; lens[ns++] = pv.length; }
                  else if (typeof pv === 'number') { ops[o++] = 9; text += name; lens[ns++] = name.length; nums[nn++] = pv; }
                  else if (typeof pv === 'boolean') { ops[o++] = pv ? 10 : 11; text += name; lens[ns++] = name.length; }
                  else { ok = false; break fields; }
                }
                break;
              default:
                if (v === null) { ops[o++] = 14; text += key; lens[ns++] = key.length; break; }
                if (typeof v !== 'string') { ok = false; break fields; }
                ops[o++] = 15; text += key; lens[ns++] = key.length; text += v; lens[ns++] = v.length;
            }
          }
        }
      } catch (e) { ok = false; }
      if (ok) {
        ops[o++] = 0;
        if (o > OC || nn > NC || ns > SC) {
          o = o0; nn = nn0; ns = ns0; text = text0;
          if (o0 > 0) break;
          ok = false;
        }
      }
      if (!ok) { o = o0; nn = nn0; ns = ns0; text = text0; ops[o++] = 1; }
    }
    hdr[0] = i; hdr[1] = o; hdr[2] = nn; hdr[3] = ns;
    return text;
  };
})()"#;

/// Elements per packer call.
const CHUNK: u32 = 4096;
/// Lists shorter than this take the general path.
const SMALL: u32 = 16;

fn ok(s: sys::napi_status) -> bool {
    s == sys::Status::napi_ok
}

/// Clears a pending JavaScript exception, if any.
unsafe fn clear_exception(env: sys::napi_env) {
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut exc = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) };
    }
}

thread_local! {
    /// The packer compiled for this thread's environment: `(env, reference)`.
    static PACKER: Cell<(sys::napi_env, sys::napi_ref)> = const { Cell::new((ptr::null_mut(), ptr::null_mut())) };
}

/// The packer function of `env` (compiled on first use).
unsafe fn packer(env: sys::napi_env) -> Option<sys::napi_value> {
    let (e, r) = PACKER.with(Cell::get);
    let mut f = ptr::null_mut();
    if e == env && !r.is_null() && ok(unsafe { sys::napi_get_reference_value(env, r, &mut f) }) {
        return Some(f);
    }
    let mut src = ptr::null_mut();
    let mut f = ptr::null_mut();
    let mut r = ptr::null_mut();
    unsafe {
        if !ok(sys::napi_create_string_utf8(
            env,
            PACK.as_ptr().cast(),
            PACK.len() as isize,
            &mut src,
        )) || !ok(sys::napi_run_script(env, src, &mut f))
            || !ok(sys::napi_create_reference(env, f, 1, &mut r))
        {
            clear_exception(env);
            return None;
        }
    }
    PACKER.with(|c| c.set((env, r)));
    if e != env {
        // Once per environment (Node-API refuses a hook registered twice).
        unsafe { sys::napi_add_env_cleanup_hook(env, Some(forget_packer), ptr::null_mut()) };
    }
    Some(f)
}

/// Env teardown: the cached references die with the environment.
unsafe extern "C" fn forget_packer(_: *mut std::ffi::c_void) {
    PACKER.with(|c| c.set((ptr::null_mut(), ptr::null_mut())));
}

unsafe extern "C" fn forget_one(_: *mut std::ffi::c_void) {
    ONE.with(|c| *c.borrow_mut() = (ptr::null_mut(), [ptr::null_mut(); 4], 0, [0; 4]));
}

/// Typed-array scratch of packer calls, owned by JavaScript, read in place.
struct Scratch {
    /// The rows it was sized for.
    rows: usize,
    hdr: sys::napi_value,
    ops: sys::napi_value,
    nums: sys::napi_value,
    lens: sys::napi_value,
    hdr_p: *mut i32,
    ops_p: *const i32,
    nums_p: *const f64,
    lens_p: *const i32,
}

unsafe fn typed(
    env: sys::napi_env,
    kind: sys::napi_typedarray_type,
    len: usize,
    size: usize,
) -> Option<(sys::napi_value, *mut u8)> {
    let mut data = ptr::null_mut();
    let mut ab = ptr::null_mut();
    let mut ta = ptr::null_mut();
    unsafe {
        if !ok(sys::napi_create_arraybuffer(
            env,
            len * size,
            &mut data,
            &mut ab,
        )) || !ok(sys::napi_create_typedarray(env, kind, len, ab, 0, &mut ta))
        {
            clear_exception(env);
            return None;
        }
    }
    Some((ta, data.cast()))
}

impl Scratch {
    /// Room for `rows` plain touchpoints of a few fields (a chunk stops early when full).
    unsafe fn new(env: sys::napi_env, rows: u32) -> Option<Scratch> {
        let n = rows.clamp(16, CHUNK) as usize;
        let i32s = sys::TypedarrayType::int32_array;
        let (hdr, hdr_p) = unsafe { typed(env, i32s, 4, 4) }?;
        let (ops, ops_p) = unsafe { typed(env, i32s, n * 12, 4) }?;
        let (nums, nums_p) = unsafe { typed(env, sys::TypedarrayType::float64_array, n * 4, 8) }?;
        let (lens, lens_p) = unsafe { typed(env, i32s, n * 12, 4) }?;
        Some(Scratch {
            rows: n,
            hdr,
            ops,
            nums,
            lens,
            hdr_p: hdr_p.cast(),
            ops_p: ops_p.cast(),
            nums_p: nums_p.cast(),
            lens_p: lens_p.cast(),
        })
    }

    /// Calls the packer `f` on `list[start..end)` (`list` null: on `one` alone) and decodes its
    /// strings into `dec`; returns the index reached, the codes and the numbers. `None` if the
    /// packer failed or reported impossible counts.
    ///
    /// # Safety
    /// `env` and the values must be valid for the current call on the JavaScript thread, and
    /// the scratch's typed arrays alive.
    #[allow(clippy::too_many_arguments)]
    unsafe fn call(
        &self,
        env: sys::napi_env,
        f: sys::napi_value,
        list: sys::napi_value,
        one: sys::napi_value,
        start: u32,
        end: u32,
        dec: &mut Decoded,
    ) -> Option<(u32, &[i32], &[f64])> {
        let mut recv = ptr::null_mut();
        let mut ret = ptr::null_mut();
        unsafe {
            *self.hdr_p = start as i32;
            *self.hdr_p.add(1) = end as i32;
            sys::napi_get_undefined(env, &mut recv);
        }
        let argv = [list, self.hdr, self.ops, self.nums, self.lens, one];
        if !ok(unsafe {
            sys::napi_call_function(env, recv, f, argv.len(), argv.as_ptr(), &mut ret)
        }) {
            unsafe { clear_exception(env) };
            return None;
        }
        // SAFETY: the packer wrote the header and at most the typed arrays' lengths; the counts
        // it reported are checked against those lengths.
        let hdr = unsafe { std::slice::from_raw_parts(self.hdr_p, 4) };
        let [reached, n_ops, n_nums, n_strs] =
            [hdr[0], hdr[1], hdr[2], hdr[3]].map(|c| c.max(0) as usize);
        let cap = self.rows;
        if reached <= start as usize
            || reached > end as usize
            || n_ops > cap * 12
            || n_nums > cap * 4
            || n_strs > cap * 12
        {
            return None;
        }
        let ops = unsafe { std::slice::from_raw_parts(self.ops_p, n_ops) };
        let nums = unsafe { std::slice::from_raw_parts(self.nums_p, n_nums) };
        let lens = unsafe { std::slice::from_raw_parts(self.lens_p, n_strs) };
        unsafe { dec.read(env, ret, lens) }?;
        Some((reached as u32, ops, nums))
    }
}

/// The strings of a packer call, as UTF-8.
#[derive(Default)]
pub(crate) struct Decoded {
    text: String,
    /// Each string's range in `text`.
    spans: Vec<(u32, u32)>,
    utf16: Vec<u16>,
}

impl Decoded {
    /// Reads the joined string `v` and cuts it by the UTF-16 lengths `lens`.
    unsafe fn read(&mut self, env: sys::napi_env, v: sys::napi_value, lens: &[i32]) -> Option<()> {
        if self.utf16.capacity() < 256 {
            self.utf16.reserve(256);
        }
        let mut got = 0usize;
        let cap = self.utf16.capacity();
        if !ok(unsafe {
            sys::napi_get_value_string_utf16(env, v, self.utf16.as_mut_ptr(), cap, &mut got)
        }) {
            unsafe { clear_exception(env) };
            return None;
        }
        if got + 1 >= cap {
            // Possibly cut short: ask for the length, then read it all.
            let mut len = 0usize;
            unsafe { sys::napi_get_value_string_utf16(env, v, ptr::null_mut(), 0, &mut len) };
            self.utf16.clear();
            self.utf16.reserve(len + 1);
            unsafe {
                sys::napi_get_value_string_utf16(env, v, self.utf16.as_mut_ptr(), len + 1, &mut got)
            };
            got = got.min(len);
        }
        // SAFETY: Node-API wrote `got` code units into the reserved capacity.
        unsafe { self.utf16.set_len(got) };
        self.text.clear();
        self.spans.clear();
        let mut at = 0usize;
        if self.utf16.iter().fold(0, |a, &c| a | c) < 0x80 {
            // ASCII: UTF-8 offsets are UTF-16 offsets.
            // SAFETY: every code unit is below 0x80, so the bytes are ASCII (valid UTF-8).
            unsafe { self.text.as_mut_vec() }.extend(self.utf16.iter().map(|&c| c as u8));
            for &l in lens {
                let l = l.max(0) as usize;
                if at + l > self.utf16.len() {
                    return None;
                }
                self.spans.push((at as u32, (at + l) as u32));
                at += l;
            }
        } else {
            for &l in lens {
                let l = l.max(0) as usize;
                let seg = self.utf16.get(at..at + l)?;
                at += l;
                let from = self.text.len() as u32;
                push_utf16(&mut self.text, seg);
                self.spans.push((from, self.text.len() as u32));
            }
        }
        Some(())
    }
}

/// Reads one element's codes from `ops[*p..]` and gives `sink` its row: `Some(Some(r))`;
/// `Some(None)` when the element must take the general path; `None` when the codes are
/// inconsistent. `ids`: the model's identity kinds.
#[allow(clippy::too_many_arguments)]
fn row<R>(
    dec: &Decoded,
    ids: &[String],
    ops: &[i32],
    nums: &[f64],
    p: &mut usize,
    ni: &mut usize,
    si: &mut usize,
    sink: impl FnOnce(Row<'_>) -> R,
) -> Option<Option<R>> {
    let (text, spans) = (&dec.text, &dec.spans);
    let mut next_str = || -> Option<&str> {
        let (a, b) = *spans.get(*si)?;
        *si += 1;
        text.get(a as usize..b as usize)
    };
    let mut next_num = || -> Option<f64> {
        let x = *nums.get(*ni)?;
        *ni += 1;
        Some(x)
    };
    let mut id = None;
    let mut channel = None;
    let mut kind = None;
    let mut time = None;
    let mut value = None;
    let mut keys: SmallVec<[(&str, &str); 2]> = SmallVec::new();
    let mut props: SmallVec<[(&str, PropValue); 4]> = SmallVec::new();
    let mut general = false;
    loop {
        let op = *ops.get(*p)?;
        *p += 1;
        match op {
            0 => break,
            1 => return Some(None),
            2 => id = Some(next_str()?),
            3 => channel = Some(next_str()?),
            4 => kind = Some(next_str()?),
            5 => match Timestamp::parse(next_str()?) {
                Some(t) => time = Some(t),
                None => general = true,
            },
            6 => {
                let x = next_num()?;
                match (x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15)
                    .then(|| Timestamp::from_millis_checked(x as i64))
                    .flatten()
                {
                    Some(t) => time = Some(t),
                    None => general = true,
                }
            }
            7 => match json_number(next_num()?) {
                Some(x) => value = Some(x),
                None => general = true,
            },
            8 => {
                let name = next_str()?;
                let v = next_str()?;
                props.push((name, PropValue::Str(v.into())));
            }
            9 => {
                let name = next_str()?;
                match json_number(next_num()?) {
                    Some(x) => props.push((name, PropValue::Num(x))),
                    None => general = true,
                }
            }
            10 | 11 => props.push((next_str()?, PropValue::Bool(op == 10))),
            14 => {
                let name = next_str()?;
                if !ids.iter().any(|k| k == name) {
                    general = true;
                }
            }
            15 => {
                let name = next_str()?;
                let v = next_str()?;
                if ids.iter().any(|k| k == name) {
                    keys.push((name, v));
                } else {
                    general = true;
                }
            }
            _ => return None,
        }
    }
    if general {
        return Some(None);
    }
    Some(Some(sink(Row {
        id,
        keys: &keys,
        channel,
        kind,
        at: time,
        value,
        properties: &props,
    })))
}

thread_local! {
    /// Scratch for single touchpoints, kept between calls: `(env, [hdr, ops, nums, lens])`.
    static ONE: std::cell::RefCell<(sys::napi_env, [sys::napi_ref; 4], usize, [usize; 4])> =
        const { std::cell::RefCell::new((ptr::null_mut(), [ptr::null_mut(); 4], 0, [0; 4])) };
}

/// The packer for single touchpoints (`ingest`).
pub(crate) struct One {
    ids: Vec<String>,
    dec: Decoded,
}

impl One {
    pub(crate) fn new(model: &Model) -> One {
        One {
            ids: model.identity_kind_names().map(str::to_string).collect(),
            dec: Decoded::default(),
        }
    }

    /// The scratch kept for this thread's environment (created on first use).
    unsafe fn scratch(env: sys::napi_env) -> Option<Scratch> {
        ONE.with(|c| {
            let mut c = c.borrow_mut();
            if c.0 == env {
                let mut vals = [ptr::null_mut(); 4];
                for (v, r) in vals.iter_mut().zip(c.1) {
                    if !ok(unsafe { sys::napi_get_reference_value(env, r, v) }) || v.is_null() {
                        return None;
                    }
                }
                let p = c.3;
                return Some(Scratch {
                    rows: c.2,
                    hdr: vals[0],
                    ops: vals[1],
                    nums: vals[2],
                    lens: vals[3],
                    hdr_p: p[0] as *mut i32,
                    ops_p: p[1] as *const i32,
                    nums_p: p[2] as *const f64,
                    lens_p: p[3] as *const i32,
                });
            }
            let s = unsafe { Scratch::new(env, 16) }?;
            let mut refs = [ptr::null_mut(); 4];
            for (r, v) in refs.iter_mut().zip([s.hdr, s.ops, s.nums, s.lens]) {
                if !ok(unsafe { sys::napi_create_reference(env, v, 1, r) }) {
                    return None;
                }
            }
            unsafe { sys::napi_add_env_cleanup_hook(env, Some(forget_one), ptr::null_mut()) };
            *c = (
                env,
                refs,
                s.rows,
                [
                    s.hdr_p as usize,
                    s.ops_p as usize,
                    s.nums_p as usize,
                    s.lens_p as usize,
                ],
            );
            Some(s)
        })
    }

    /// Reads `value` with the packer and gives `f` its row; `None` when it must take the
    /// general path (not a plain touchpoint, or no packer).
    ///
    /// # Safety
    /// `env` and `value` must be valid for the current call on the JavaScript thread.
    pub(crate) unsafe fn with_row<R>(
        &mut self,
        env: sys::napi_env,
        value: sys::napi_value,
        f: impl FnOnce(Row<'_>) -> R,
    ) -> Option<R> {
        let pack = unsafe { packer(env) }?;
        let s = unsafe { Self::scratch(env) }?;
        let mut null = ptr::null_mut();
        unsafe { sys::napi_get_null(env, &mut null) };
        let (_, ops, nums) = unsafe { s.call(env, pack, null, value, 0, 1, &mut self.dec) }?;
        let (mut p, mut ni, mut si) = (0, 0, 0);
        row(&self.dec, &self.ids, ops, nums, &mut p, &mut ni, &mut si, f)?
    }
}

/// Converted elements of a list and the ones rejected before reaching the core.
pub(crate) struct FastBatch {
    model: Model,
    /// Identity kind names of the model, in order (the packer's `ids`).
    ids: Vec<String>,
    batch: TouchpointBatch,
    /// The list index of each batch row.
    index: Vec<u32>,
    /// Elements that were rejected without reaching the core (JSON reader errors).
    early: Vec<Rejected>,
    /// The current slice's strings.
    dec: Decoded,
    /// JSON text of one element (general path).
    line: Vec<u8>,
}

/// A number as the canonical JSON form carries it: the JSON writer writes whole numbers up to
/// 2^53 as integers (so `-0` becomes `0`) and other finite numbers in their shortest form, which
/// the core's reader parses back.
fn json_number(x: f64) -> Option<f64> {
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0 {
        return Some(x as i64 as f64);
    }
    let text = serde_json::to_string(&x).ok()?;
    serde_json::from_str::<f64>(&text).ok()
}

/// Decodes UTF-16 (lone surrogates become U+FFFD, as Node-API's UTF-8 does) onto `out`.
fn push_utf16(out: &mut String, s: &[u16]) {
    if s.iter().all(|&c| c < 0x80) {
        out.reserve(s.len());
        for &c in s {
            out.push(c as u8 as char);
        }
        return;
    }
    out.extend(char::decode_utf16(s.iter().copied()).map(|r| r.unwrap_or('\u{FFFD}')));
}

impl FastBatch {
    pub(crate) fn new(model: Model) -> FastBatch {
        let ids = model.identity_kind_names().map(str::to_string).collect();
        FastBatch {
            model,
            ids,
            batch: TouchpointBatch::new(),
            index: Vec::new(),
            early: Vec::new(),
            dec: Decoded::default(),
            line: Vec::new(),
        }
    }

    /// Converts `list[start..end]`, or until `deadline`; returns the index reached.
    ///
    /// # Safety
    /// `env` and `list` (an array) must be valid for the current call on the JavaScript thread.
    pub(crate) unsafe fn add(
        &mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        list: sys::napi_value,
        start: u32,
        end: u32,
        deadline: Option<Instant>,
    ) -> u32 {
        let mut i = start;
        let mut scope = ptr::null_mut();
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        // Setting the packer up costs more than the general path for a few elements.
        let setup = match end.saturating_sub(start) >= SMALL {
            true => unsafe { self.setup(env, end.saturating_sub(start)) },
            false => None,
        };
        // Time-sliced calls (the async driver) check the clock more often.
        let chunk = if deadline.is_some() { CHUNK / 4 } else { CHUNK };
        while i < end {
            let reached = match setup {
                Some((f, ref scratch)) => unsafe {
                    self.chunk(env, writer, f, scratch, list, i, end.min(i + chunk))
                },
                None => None,
            };
            i = match reached {
                Some(r) => r,
                None => {
                    // No packer: every element takes the general path.
                    let stop = end.min(i + 64);
                    for j in i..stop {
                        unsafe { self.general(env, writer, list, j) };
                    }
                    stop
                }
            };
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        unsafe { sys::napi_close_handle_scope(env, scope) };
        i
    }

    unsafe fn setup(&self, env: sys::napi_env, rows: u32) -> Option<(sys::napi_value, Scratch)> {
        let f = unsafe { packer(env) }?;
        let scratch = unsafe { Scratch::new(env, rows) }?;
        Some((f, scratch))
    }

    /// One packer call on `list[start..end)` and its rows; `None` if the packer failed.
    #[allow(clippy::too_many_arguments)]
    unsafe fn chunk(
        &mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        f: sys::napi_value,
        s: &Scratch,
        list: sys::napi_value,
        start: u32,
        end: u32,
    ) -> Option<u32> {
        let mut scope = ptr::null_mut();
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        let r = unsafe { self.chunk_in_scope(env, writer, f, s, list, start, end) };
        unsafe { sys::napi_close_handle_scope(env, scope) };
        r
    }

    #[allow(clippy::too_many_arguments)]
    unsafe fn chunk_in_scope(
        &mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        f: sys::napi_value,
        s: &Scratch,
        list: sys::napi_value,
        start: u32,
        end: u32,
    ) -> Option<u32> {
        let mut null = ptr::null_mut();
        unsafe { sys::napi_get_null(env, &mut null) };
        let (reached, ops, nums) =
            unsafe { s.call(env, f, list, null, start, end, &mut self.dec) }?;
        let (mut p, mut ni, mut si) = (0usize, 0usize, 0usize);
        for i in start..reached {
            let FastBatch {
                dec, ids, batch, ..
            } = self;
            let pushed = row(dec, ids, ops, nums, &mut p, &mut ni, &mut si, |row| {
                batch.push_row(row).is_ok()
            })?;
            // A capacity error leaves the batch as it was; the general path then reports it.
            if pushed == Some(true) {
                self.index.push(i);
            } else {
                unsafe { self.general(env, writer, list, i) };
            }
        }
        Some(reached)
    }

    /// The general path for `list[i]`: canonical JSON, read by the core's JSON reader, added to
    /// the batch; or rejected at `i` with the error the JSON path gives.
    ///
    /// # Safety
    /// `env` and `list` must be valid for the current call on the JavaScript thread.
    unsafe fn general(
        &mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        list: sys::napi_value,
        i: u32,
    ) {
        let r = unsafe { self.read_json(env, writer, list, i) }
            .and_then(|()| {
                let text = std::str::from_utf8(&self.line).expect("the writer writes UTF-8");
                jornada::Touchpoint::from_json(&self.model, text)
            })
            .and_then(|tp| self.batch.push(&tp));
        match r {
            Ok(()) => self.index.push(i),
            Err(e) => self.early.push(Rejected {
                index: i as usize,
                error: e.at_index(i as usize),
            }),
        }
    }

    /// Writes `list[i]` as canonical JSON into `self.line`.
    unsafe fn read_json(
        &mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        list: sys::napi_value,
        i: u32,
    ) -> Result<(), Error> {
        let mut scope = ptr::null_mut();
        unsafe { sys::napi_open_handle_scope(env, &mut scope) };
        self.line.clear();
        let mut value = ptr::null_mut();
        let r = if ok(unsafe { sys::napi_get_element(env, list, i, &mut value) }) {
            unsafe { writer.touchpoint(env, value, &mut self.line) }.map_err(|Fail(e)| e)
        } else {
            unsafe { clear_exception(env) };
            Err(Error::InvalidValue {
                loc: jornada::Location::default(),
                message: "reading the list element threw".into(),
            })
        };
        unsafe { sys::napi_close_handle_scope(env, scope) };
        r
    }

    /// Ingests the batch in one core call (on any thread). Rejections carry list indexes; those
    /// of batch rows still need [`FastBatch::fix_rejected`] on the JavaScript thread.
    pub(crate) fn apply(self, engine: &mut jornada::Engine) -> Applied {
        let mut out = engine.ingest_columns(&self.batch);
        for r in &mut out.rejected {
            let i = self.index[r.index] as usize;
            r.index = i;
            r.error = r.error.clone().at_index(i);
        }
        Applied {
            out,
            early: self.early,
            model: self.model,
        }
    }
}

/// A batch applied, its early rejections not yet merged.
pub struct Applied {
    out: jornada::Outcome,
    early: Vec<Rejected>,
    model: Model,
}

impl Applied {
    /// Gives each rejected row the JSON path's error for its element (see the module docs) and
    /// merges the early rejections; returns the outcome.
    ///
    /// # Safety
    /// `env` and `list` (the array the batch was read from, unchanged) must be valid for the
    /// current call on the JavaScript thread.
    pub(crate) unsafe fn finish(
        mut self,
        env: sys::napi_env,
        writer: &mut Writer,
        list: sys::napi_value,
    ) -> jornada::Outcome {
        if !self.out.rejected.is_empty() {
            let mut fb = FastBatch::new(self.model.clone());
            for r in &mut self.out.rejected {
                let i = r.index as u32;
                let e = unsafe { fb.read_json(env, writer, list, i) }.and_then(|()| {
                    let text = std::str::from_utf8(&fb.line).expect("the writer writes UTF-8");
                    jornada::Touchpoint::from_json(&self.model, text).map(|_| ())
                });
                if let Err(e) = e {
                    r.error = e.at_index(i as usize);
                }
            }
        }
        let mut out = self.out;
        if !self.early.is_empty() {
            out.rejected.extend(self.early);
            out.rejected.sort_by_key(|r| r.index);
        }
        out
    }
}
