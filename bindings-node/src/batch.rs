//! A list of JavaScript touchpoints as one core batch.
//!
//! Each element is written as one line of canonical JSON; the lines go to the core's
//! `ingest_json_lines` in one call, so parsing, validation and batch semantics are the core's. An
//! element that cannot be written (a `NaN`, a throwing getter) is rejected at its index without
//! reaching the core; the core's rejections are mapped back from line positions to list indexes.

use crate::to_json::{Fail, Writer};
use jornada::{Engine, Error, Rejected};
use napi::sys;
use std::ptr;
use std::time::Instant;

/// Converted elements and early rejections.
#[derive(Default)]
pub(crate) struct Batch {
    /// One line per converted element, in blocks of about [`BLOCK`] bytes: a growing batch never
    /// copies what it holds (a doubling `Vec` would copy megabytes on the JavaScript thread).
    blocks: Vec<Vec<u8>>,
    /// The block being written.
    bytes: Vec<u8>,
    /// The list index of each line.
    index: Vec<u32>,
    /// Elements that did not convert.
    early: Vec<Rejected>,
}

/// Size of a block of converted lines.
const BLOCK: usize = 1 << 20;

impl Batch {
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
        while i < end {
            let mut scope = ptr::null_mut();
            unsafe { sys::napi_open_handle_scope(env, &mut scope) };
            let mut value = ptr::null_mut();
            let r = if unsafe { sys::napi_get_element(env, list, i, &mut value) }
                == sys::Status::napi_ok
            {
                unsafe { writer.touchpoint(env, value, &mut self.bytes) }
            } else {
                Err(unreadable(env))
            };
            match r {
                Ok(()) => {
                    self.bytes.push(b'\n');
                    self.index.push(i);
                    if self.bytes.len() >= BLOCK {
                        let full = std::mem::replace(
                            &mut self.bytes,
                            Vec::with_capacity(BLOCK + BLOCK / 4),
                        );
                        self.blocks.push(full);
                    }
                }
                Err(Fail(e)) => self.early.push(Rejected {
                    index: i as usize,
                    error: e.at_index(i as usize),
                }),
            }
            unsafe { sys::napi_close_handle_scope(env, scope) };
            i += 1;
            if i.is_multiple_of(64) && deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
        }
        i
    }

    /// Applies the converted lines in one core call; rejections carry list indexes.
    pub(crate) fn apply(mut self, engine: &mut Engine) -> jornada::Outcome {
        if !self.blocks.is_empty() {
            let mut all = Vec::with_capacity(
                self.blocks.iter().map(Vec::len).sum::<usize>() + self.bytes.len(),
            );
            for b in self.blocks.drain(..) {
                all.extend_from_slice(&b);
            }
            all.extend_from_slice(&self.bytes);
            self.bytes = all;
        }
        let mut out = engine.ingest_json_lines(&self.bytes);
        for r in &mut out.rejected {
            let i = self.index[r.index] as usize;
            r.index = i;
            r.error = without_line(r.error.clone()).at_index(i);
        }
        if !self.early.is_empty() {
            out.rejected.extend(self.early);
            out.rejected.sort_by_key(|r| r.index);
        }
        out
    }
}

/// Reading an element failed (a throwing proxy trap); the exception is cleared.
fn unreadable(env: sys::napi_env) -> Fail {
    let mut pending = false;
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    if pending {
        let mut exc = ptr::null_mut();
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut exc) };
    }
    Fail(Error::InvalidValue {
        loc: jornada::Location::default(),
        message: "reading the list element threw".into(),
    })
}

/// The error without a line number: lines of the internal NDJSON are not the caller's.
pub(crate) fn without_line(mut e: Error) -> Error {
    use Error::*;
    match &mut e {
        InvalidJson { loc, .. }
        | MissingField { loc }
        | UnknownField { loc }
        | WrongType { loc, .. }
        | InvalidValue { loc, .. }
        | InvalidTimestamp { loc, .. }
        | InvalidDuration { loc, .. }
        | UnknownChannel { loc, .. }
        | UnknownEventKind { loc, .. }
        | UnknownIdentityKind { loc, .. }
        | MissingIdentity { loc }
        | LateEvent { loc, .. } => loc.line = None,
        _ => {}
    }
    e
}
