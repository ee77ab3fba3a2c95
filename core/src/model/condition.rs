//! Compiled property conditions and their evaluation.

use crate::value::PropValue;

/// Index of a property name (see [`Model::property_names`](crate::Model)).
pub(crate) type PropKey = u16;

/// The touchpoint's `value`, addressed as the property `$value`.
pub(crate) const VALUE_PROP: PropKey = u16::MAX;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A compiled condition.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    All(Vec<Cond>),
    Any(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(PropKey, CmpOp, PropValue),
    In(PropKey, Vec<PropValue>),
    Exists(PropKey),
    Contains(PropKey, Box<str>),
}

/// What a condition reads: the touchpoint's value and properties.
pub(crate) struct PropView<'a> {
    pub value: Option<f64>,
    pub props: &'a [(PropKey, PropValue)],
}

/// Where a condition reads a touchpoint's value and properties: the engine's per-event extras
/// ([`PropView`]) or the columns of an event log (batch replay).
pub(crate) trait PropSource {
    /// Calls `f` with the value of property `key` ([`VALUE_PROP`]: the touchpoint's value), or
    /// returns `None` when the touchpoint does not have it.
    fn with<R>(&self, key: PropKey, f: impl FnOnce(&PropValue) -> R) -> Option<R>;
}

impl PropSource for PropView<'_> {
    fn with<R>(&self, key: PropKey, f: impl FnOnce(&PropValue) -> R) -> Option<R> {
        if key == VALUE_PROP {
            return self.value.map(|v| f(&PropValue::Num(v)));
        }
        self.props
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| f(v))
    }
}

impl Cond {
    /// Evaluates the condition. A comparison with a missing property, or with a property of
    /// another type than the operand, is false (so `not` of it is true).
    pub(crate) fn eval<V: PropSource + ?Sized>(&self, view: &V) -> bool {
        match self {
            Cond::All(cs) => cs.iter().all(|c| c.eval(view)),
            Cond::Any(cs) => cs.iter().any(|c| c.eval(view)),
            Cond::Not(c) => !c.eval(view),
            Cond::Exists(k) => view.with(*k, |_| ()).is_some(),
            Cond::In(k, vs) => view
                .with(*k, |v| vs.iter().any(|x| same(v, x)))
                .unwrap_or(false),
            Cond::Contains(k, needle) => view
                .with(
                    *k,
                    |v| matches!(v, PropValue::Str(s) if s.contains(&**needle)),
                )
                .unwrap_or(false),
            Cond::Cmp(k, op, rhs) => view.with(*k, |lhs| compare(lhs, *op, rhs)).unwrap_or(false),
        }
    }
}

fn compare(lhs: &PropValue, op: CmpOp, rhs: &PropValue) -> bool {
    match (lhs, rhs) {
        (PropValue::Num(a), PropValue::Num(b)) => match op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        },
        (PropValue::Str(a), PropValue::Str(b)) => match op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        },
        (PropValue::Bool(a), PropValue::Bool(b)) => match op {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            _ => false,
        },
        _ => false,
    }
}

fn same(a: &PropValue, b: &PropValue) -> bool {
    match (a, b) {
        (PropValue::Num(x), PropValue::Num(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(props: &[(PropKey, PropValue)]) -> PropView<'_> {
        PropView {
            value: Some(50.0),
            props,
        }
    }

    #[test]
    fn comparisons_and_missing_properties() {
        let props = [
            (0, PropValue::from("A1")),
            (1, PropValue::Num(3.0)),
            (2, PropValue::Bool(true)),
        ];
        let v = view(&props);
        assert!(Cond::Cmp(0, CmpOp::Eq, "A1".into()).eval(&v));
        assert!(!Cond::Cmp(0, CmpOp::Eq, PropValue::Num(1.0)).eval(&v));
        assert!(Cond::Cmp(1, CmpOp::Ge, PropValue::Num(3.0)).eval(&v));
        assert!(!Cond::Cmp(1, CmpOp::Gt, PropValue::Num(3.0)).eval(&v));
        assert!(Cond::Cmp(VALUE_PROP, CmpOp::Lt, PropValue::Num(100.0)).eval(&v));
        assert!(
            !Cond::Cmp(9, CmpOp::Ne, PropValue::Num(1.0)).eval(&v),
            "missing property: false"
        );
        assert!(Cond::Not(Box::new(Cond::Exists(9))).eval(&v));
        assert!(Cond::In(0, vec!["B2".into(), "A1".into()]).eval(&v));
        assert!(Cond::Contains(0, "1".into()).eval(&v));
        assert!(!Cond::Contains(1, "3".into()).eval(&v));
        assert!(Cond::All(vec![
            Cond::Exists(2),
            Cond::Any(vec![Cond::Exists(9), Cond::Exists(1)])
        ])
        .eval(&v));
        assert!(!Cond::Cmp(2, CmpOp::Lt, PropValue::Bool(true)).eval(&v));
    }
}
