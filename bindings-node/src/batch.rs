//! Rejections of a batch fed to the core as internal JSON lines (`ingestColumns` fix-ups).

use jornada::Error;

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
