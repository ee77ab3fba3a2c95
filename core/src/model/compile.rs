//! Validation and compilation of a [`ModelSpec`] into lookup tables.
//!
//! Every problem is collected (not just the first) with its JSON path, so `jornada validate` and
//! editors can show them all.

use super::condition::{CmpOp, Cond, PropKey, VALUE_PROP};
use super::spec::*;
use super::*;
use crate::value::PropValue;

/// Touchpoint fields that identity kinds may not be named after.
pub(crate) const RESERVED_FIELDS: [&str; 6] =
    ["id", "channel", "kind", "at", "value", "properties"];

struct Ctx {
    problems: Vec<Problem>,
    warnings: Vec<Problem>,
}

impl Ctx {
    fn err(&mut self, path: impl Into<String>, code: &'static str, message: impl Into<String>) {
        self.problems.push(Problem {
            path: path.into(),
            code,
            message: message.into(),
        });
    }
}

fn index_names<'a, T: TryFrom<usize> + Copy>(
    ctx: &mut Ctx,
    what: &str,
    path: &str,
    names: impl Iterator<Item = &'a str>,
    max: usize,
) -> (Vec<Arc<str>>, HashMap<Arc<str>, T>) {
    let mut list = Vec::new();
    let mut ix = HashMap::new();
    for (i, name) in names.enumerate() {
        let name: Arc<str> = name.into();
        if name.is_empty() {
            ctx.err(
                format!("{path}[{i}]"),
                "empty",
                format!("{what} name is empty"),
            );
        }
        if i >= max {
            ctx.err(
                format!("{path}[{i}]"),
                "too_many",
                format!("at most {max} {what}s"),
            );
            break;
        }
        if ix.contains_key(&name) {
            ctx.err(
                format!("{path}[{i}]"),
                "duplicate_name",
                format!("{what} `{name}` is declared twice"),
            );
        } else if let Ok(id) = T::try_from(i) {
            ix.insert(name.clone(), id);
        }
        list.push(name);
    }
    if list.is_empty() {
        ctx.err(path, "empty", format!("at least one {what} is needed"));
    }
    (list, ix)
}

fn duration(ctx: &mut Ctx, path: &str, text: &str, positive: bool) -> i64 {
    match crate::time::Duration::parse(text) {
        Some(d) if !positive || d.0 > 0 => d.0,
        Some(_) => {
            ctx.err(
                path,
                "invalid_duration",
                format!("`{text}` must be longer than zero"),
            );
            1
        }
        None => {
            ctx.err(
                path,
                "invalid_duration",
                format!(
                    "`{text}` is not a duration (use e.g. 500ms, 30s, 15m, 1h, 7d, 2w or 1h30m)"
                ),
            );
            1
        }
    }
}

fn resolve_set<T: Copy + Into<usize>>(
    ctx: &mut Ctx,
    path: &str,
    what: &str,
    names: &Names,
    ix: &HashMap<Arc<str>, T>,
    len: usize,
) -> Option<Box<[bool]>> {
    let list = names.as_list()?;
    let mut set = vec![false; len].into_boxed_slice();
    if list.is_empty() {
        ctx.err(
            path,
            "never_fires",
            format!("the {what} list is empty, so the rule can never fire"),
        );
    }
    for (i, n) in list.iter().enumerate() {
        let p = match names {
            Names::One(_) => path.to_string(),
            Names::Many(_) => format!("{path}[{i}]"),
        };
        match ix.get(*n) {
            Some(&id) => set[id.into()] = true,
            None => {
                let code = match what {
                    "stage" => "unknown_stage",
                    "channel" => "unknown_channel",
                    _ => "unknown_event_kind",
                };
                ctx.err(p, code, format!("unknown {what} `{n}`"));
            }
        }
    }
    Some(set)
}

struct PropTable {
    props: Vec<(Arc<str>, Option<PropType>)>,
    ix: HashMap<Arc<str>, PropKey>,
}

impl PropTable {
    fn key(&mut self, name: &str) -> PropKey {
        if name == "$value" {
            return VALUE_PROP;
        }
        if let Some(&k) = self.ix.get(name) {
            return k;
        }
        let k = self.props.len() as PropKey;
        let name: Arc<str> = name.into();
        self.props.push((name.clone(), None));
        self.ix.insert(name, k);
        k
    }
    fn declared(&self, name: &str) -> Option<PropType> {
        if name == "$value" {
            return Some(PropType::Number);
        }
        self.ix.get(name).and_then(|&k| self.props[k as usize].1)
    }
}

fn scalar(v: &serde_json::Value) -> Option<PropValue> {
    match v {
        serde_json::Value::String(s) => Some(PropValue::Str(s.as_str().into())),
        serde_json::Value::Bool(b) => Some(PropValue::Bool(*b)),
        serde_json::Value::Number(n) => n.as_f64().map(PropValue::Num),
        _ => None,
    }
}

fn condition(ctx: &mut Ctx, path: &str, c: &ConditionSpec, props: &mut PropTable) -> Cond {
    let forms = [
        c.all.is_some(),
        c.any.is_some(),
        c.not.is_some(),
        c.prop.is_some(),
    ];
    if forms.iter().filter(|f| **f).count() != 1 {
        ctx.err(
            path,
            "invalid_condition",
            "a condition has exactly one of `all`, `any`, `not`, `prop`",
        );
        return Cond::All(vec![]);
    }
    if let Some(list) = &c.all {
        return Cond::All(
            list.iter()
                .enumerate()
                .map(|(i, c)| condition(ctx, &format!("{path}.all[{i}]"), c, props))
                .collect(),
        );
    }
    if let Some(list) = &c.any {
        if list.is_empty() {
            ctx.err(
                format!("{path}.any"),
                "never_fires",
                "`any` of an empty list is never true",
            );
        }
        return Cond::Any(
            list.iter()
                .enumerate()
                .map(|(i, c)| condition(ctx, &format!("{path}.any[{i}]"), c, props))
                .collect(),
        );
    }
    if let Some(inner) = &c.not {
        return Cond::Not(Box::new(condition(
            ctx,
            &format!("{path}.not"),
            inner,
            props,
        )));
    }
    let name = c.prop.as_deref().unwrap_or_default();
    if name.is_empty() {
        ctx.err(
            format!("{path}.prop"),
            "invalid_condition",
            "property name is empty",
        );
    }
    let declared = props.declared(name);
    let key = props.key(name);
    let op = c.op.as_deref().unwrap_or("");
    let check_type = |ctx: &mut Ctx, v: &PropValue, vpath: String| {
        if let Some(t) = declared {
            if v.prop_type() != t {
                ctx.err(
                    vpath,
                    "type_mismatch",
                    format!(
                        "property `{name}` is a {t}, compared with a {}",
                        v.prop_type()
                    ),
                );
            }
        }
    };
    let value_path = format!("{path}.value");
    match op {
        "exists" => {
            if c.value.is_some() {
                ctx.err(value_path, "invalid_condition", "`exists` takes no value");
            }
            Cond::Exists(key)
        }
        "in" => {
            let Some(serde_json::Value::Array(items)) = &c.value else {
                ctx.err(value_path, "type_mismatch", "`in` needs a list of values");
                return Cond::In(key, vec![]);
            };
            if items.is_empty() {
                ctx.err(
                    value_path.clone(),
                    "never_fires",
                    "`in` an empty list is never true",
                );
            }
            let mut vals = Vec::new();
            for (i, item) in items.iter().enumerate() {
                match scalar(item) {
                    Some(v) => {
                        check_type(ctx, &v, format!("{value_path}[{i}]"));
                        vals.push(v)
                    }
                    None => ctx.err(
                        format!("{value_path}[{i}]"),
                        "type_mismatch",
                        "values must be strings, numbers or booleans",
                    ),
                }
            }
            Cond::In(key, vals)
        }
        "contains" => {
            if declared.is_some_and(|t| t != PropType::String) {
                ctx.err(
                    format!("{path}.op"),
                    "type_mismatch",
                    format!(
                        "`contains` needs a string property; `{name}` is a {}",
                        declared.unwrap()
                    ),
                );
            }
            match &c.value {
                Some(serde_json::Value::String(s)) => Cond::Contains(key, s.as_str().into()),
                _ => {
                    ctx.err(
                        value_path,
                        "type_mismatch",
                        "`contains` needs a string value",
                    );
                    Cond::Contains(key, "".into())
                }
            }
        }
        "=" | "==" | "!=" | "<" | "<=" | ">" | ">=" => {
            let cmp = match op {
                "=" | "==" => CmpOp::Eq,
                "!=" => CmpOp::Ne,
                "<" => CmpOp::Lt,
                "<=" => CmpOp::Le,
                ">" => CmpOp::Gt,
                _ => CmpOp::Ge,
            };
            let Some(v) = c.value.as_ref().and_then(scalar) else {
                ctx.err(
                    value_path,
                    "type_mismatch",
                    format!("`{op}` needs a string, number or boolean value"),
                );
                return Cond::Cmp(key, cmp, PropValue::Bool(false));
            };
            if matches!(v, PropValue::Bool(_)) && !matches!(cmp, CmpOp::Eq | CmpOp::Ne) {
                ctx.err(
                    format!("{path}.op"),
                    "type_mismatch",
                    format!("`{op}` does not order booleans"),
                );
            }
            check_type(ctx, &v, value_path);
            Cond::Cmp(key, cmp, v)
        }
        other => {
            ctx.err(
                format!("{path}.op"),
                "invalid_condition",
                format!(
                    "unknown operator `{other}` (use =, !=, <, <=, >, >=, in, exists, contains)"
                ),
            );
            Cond::All(vec![])
        }
    }
}

fn is_subset(a: Option<&[bool]>, b: Option<&[bool]>) -> bool {
    // `None` is the universal set.
    match (a, b) {
        (_, None) => true,
        (None, Some(b)) => b.iter().all(|x| *x),
        (Some(a), Some(b)) => a.iter().zip(b).all(|(x, y)| !*x || *y),
    }
}

pub(super) fn compile(spec: ModelSpec) -> Result<Compiled> {
    let mut ctx = Ctx {
        problems: vec![],
        warnings: vec![],
    };
    if spec.jornada_model != MODEL_FORMAT_VERSION {
        ctx.err(
            "jornada_model",
            "unsupported_version",
            format!(
                "format version {} is not supported (this build reads {MODEL_FORMAT_VERSION})",
                spec.jornada_model
            ),
        );
    }
    if spec.name.is_empty() {
        ctx.err("name", "empty", "the model needs a name");
    }
    let lateness = duration(&mut ctx, "allowed_lateness", &spec.allowed_lateness, false);

    let (id_names, identity_ix) = index_names::<IdentityId>(
        &mut ctx,
        "identity kind",
        "identities",
        spec.identities.iter().map(|i| i.kind.as_str()),
        255,
    );
    for (i, n) in id_names.iter().enumerate() {
        if RESERVED_FIELDS.contains(&&**n) {
            ctx.err(
                format!("identities[{i}].kind"),
                "reserved_name",
                format!("`{n}` is a touchpoint field; name the identity kind otherwise"),
            );
        }
    }
    if !spec.identities.is_empty() && spec.identities.iter().all(|i| i.shared) {
        ctx.err(
            "identities",
            "empty",
            "at least one identity kind must not be shared",
        );
    }
    let identities = id_names
        .into_iter()
        .zip(&spec.identities)
        .map(|(name, s)| IdentityKind {
            name,
            shared: s.shared,
        })
        .collect();

    let (ch_names, channel_ix) = index_names::<ChannelId>(
        &mut ctx,
        "channel",
        "channels",
        spec.channels.iter().map(|c| c.name()),
        255,
    );
    let channels: Vec<Channel> = ch_names
        .into_iter()
        .zip(&spec.channels)
        .map(|(name, s)| Channel {
            name,
            consent: s.consent(),
        })
        .collect();
    let (kinds, kind_ix) = index_names::<KindId>(
        &mut ctx,
        "event kind",
        "event_kinds",
        spec.event_kinds.iter().map(String::as_str),
        65_535,
    );
    let (stage_names, stage_ix) = index_names::<StageId>(
        &mut ctx,
        "stage",
        "stages",
        spec.stages.iter().map(|s| s.name()),
        65_535,
    );

    let mut props = PropTable {
        props: vec![],
        ix: HashMap::new(),
    };
    for (name, t) in &spec.properties {
        if name.is_empty() || name == "$value" {
            ctx.err(
                format!("properties.{name}"),
                "reserved_name",
                "property names must be non-empty and not `$value`",
            );
            continue;
        }
        let k = props.key(name);
        props.props[k as usize].1 = Some(*t);
    }

    let mut actions: Vec<ActionDef> = Vec::new();
    let mut action = |ctx: &mut Ctx, path: String, a: &ActionSpec| -> ActionId {
        if a.action.is_empty() {
            ctx.err(format!("{path}.action"), "empty", "action name is empty");
        }
        let channel = a
            .channel
            .as_ref()
            .and_then(|c| match channel_ix.get(c.as_str()) {
                Some(&id) => Some(id),
                None => {
                    ctx.err(
                        format!("{path}.channel"),
                        "unknown_channel",
                        format!("unknown channel `{c}`"),
                    );
                    None
                }
            });
        actions.push(ActionDef {
            name: a.action.as_str().into(),
            channel,
            params: Arc::new(a.params.clone()),
        });
        (actions.len() - 1) as ActionId
    };

    let mut stages: Vec<Stage> = stage_names
        .into_iter()
        .zip(&spec.stages)
        .enumerate()
        .map(|(i, (name, s))| {
            let on_enter = match s {
                StageSpec::Full { on_enter, .. } => on_enter
                    .iter()
                    .enumerate()
                    .map(|(j, a)| action(&mut ctx, format!("stages[{i}].on_enter[{j}]"), a))
                    .collect(),
                StageSpec::Name(_) => vec![],
            };
            Stage {
                name,
                on_enter,
                timeouts: vec![],
            }
        })
        .collect();

    let n_kinds = kinds.len();
    let n_channels = channels.len();
    let n_stages = stages.len();
    let mut rules: Vec<Rule> = Vec::new();
    let mut rule_from: Vec<Option<Box<[bool]>>> = Vec::new();
    let mut rule_names = HashMap::<&str, usize>::new();
    let mut reached = vec![false; n_stages];
    if n_stages > 0 {
        reached[0] = true;
    }
    for (i, r) in spec.rules.iter().enumerate() {
        let p = format!("rules[{i}]");
        if r.name.is_empty() {
            ctx.err(format!("{p}.name"), "empty", "rule name is empty");
        } else if rule_names.insert(&r.name, i).is_some() {
            ctx.err(
                format!("{p}.name"),
                "duplicate_name",
                format!("rule `{}` is declared twice", r.name),
            );
        }
        if i >= 65_535 {
            ctx.err(&p, "too_many", "at most 65,535 rules");
            break;
        }
        let to = r.to.as_ref().and_then(|t| match stage_ix.get(t.as_str()) {
            Some(&s) => {
                reached[s as usize] = true;
                Some(s)
            }
            None => {
                ctx.err(
                    format!("{p}.to"),
                    "unknown_stage",
                    format!("unknown stage `{t}`"),
                );
                None
            }
        });
        let acts: Vec<ActionId> = r
            .actions
            .iter()
            .enumerate()
            .map(|(j, a)| action(&mut ctx, format!("{p}.actions[{j}]"), a))
            .collect();
        if r.to.is_none() && r.actions.is_empty() {
            ctx.err(
                &p,
                "no_effect",
                format!("rule `{}` has neither `to` nor `actions`", r.name),
            );
        }
        let rule_type = r.rule_type.unwrap_or_default();
        let misplaced: Vec<&str> = match rule_type {
            RuleType::Transition => [
                ("in", r.in_stages.is_some()),
                ("none_of", r.none_of.is_some()),
                ("within", r.within.is_some()),
                ("restart_on", r.restart_on.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(n, _)| n)
            .collect(),
            RuleType::Timeout => [
                ("from", r.from.is_some()),
                ("on", r.on.is_some()),
                ("channels", r.channels.is_some()),
                ("when", r.when.is_some()),
                ("count", r.count.is_some()),
            ]
            .into_iter()
            .filter(|(_, present)| *present)
            .map(|(n, _)| n)
            .collect(),
        };
        for field in misplaced {
            let other = if rule_type == RuleType::Timeout {
                "transition"
            } else {
                "timeout"
            };
            ctx.err(
                format!("{p}.{field}"),
                "parse",
                format!(
                    "`{field}` belongs to {other} rules; set \"type\": \"{other}\" or remove it"
                ),
            );
        }
        let body = match rule_type {
            RuleType::Transition => {
                let from = r.from.as_ref().and_then(|f| {
                    resolve_set(
                        &mut ctx,
                        &format!("{p}.from"),
                        "stage",
                        f,
                        &stage_ix,
                        n_stages,
                    )
                });
                let on = match &r.on {
                    Some(on) => resolve_set(
                        &mut ctx,
                        &format!("{p}.on"),
                        "event kind",
                        on,
                        &kind_ix,
                        n_kinds,
                    )
                    .unwrap_or_else(|| vec![true; n_kinds].into_boxed_slice()),
                    None => {
                        ctx.err(format!("{p}.on"), "parse", "a transition rule needs `on`: the event kinds that trigger it (or \"*\")");
                        vec![false; n_kinds].into_boxed_slice()
                    }
                };
                let chans = r.channels.as_ref().and_then(|c| {
                    resolve_set(
                        &mut ctx,
                        &format!("{p}.channels"),
                        "channel",
                        c,
                        &channel_ix,
                        n_channels,
                    )
                });
                let when = r
                    .when
                    .as_ref()
                    .map(|c| condition(&mut ctx, &format!("{p}.when"), c, &mut props));
                let count = r.count.as_ref().map(|c| {
                    if c.at_least == 0 {
                        ctx.err(
                            format!("{p}.count.at_least"),
                            "invalid_condition",
                            "`at_least` must be 1 or more",
                        );
                    }
                    Count {
                        at_least: c.at_least.max(1),
                        within: c
                            .within
                            .as_ref()
                            .map(|w| duration(&mut ctx, &format!("{p}.count.within"), w, true)),
                    }
                });
                if let (Some(to), Some(from)) = (to, &from) {
                    let only_self = from
                        .iter()
                        .enumerate()
                        .all(|(s, on)| !*on || s == to as usize);
                    if only_self && acts.is_empty() {
                        ctx.err(
                            &p,
                            "no_effect",
                            format!(
                                "rule `{}` moves customers from `{}` to itself and has no actions",
                                r.name, stages[to as usize].name
                            ),
                        );
                    }
                }
                // Shadowing: an earlier unconditional transition rule covering every case of this one.
                for (j, earlier) in rules.iter().enumerate() {
                    if let RuleBody::Transition {
                        on: e_on,
                        channels: e_ch,
                        when: None,
                        count: None,
                    } = &earlier.body
                    {
                        if is_subset(from.as_deref(), rule_from[j].as_deref())
                            && is_subset(Some(&on), Some(e_on))
                            && is_subset(chans.as_deref(), e_ch.as_deref())
                            && on.iter().any(|x| *x)
                        {
                            ctx.err(&p, "never_fires", format!("rule `{}` can never fire: the earlier rule `{}` (rules[{j}]) always matches first", r.name, earlier.name));
                            break;
                        }
                    }
                }
                rule_from.push(from);
                RuleBody::Transition {
                    on,
                    channels: chans,
                    when,
                    count,
                }
            }
            RuleType::Timeout => {
                let in_set = match &r.in_stages {
                    Some(n) => resolve_set(
                        &mut ctx,
                        &format!("{p}.in"),
                        "stage",
                        n,
                        &stage_ix,
                        n_stages,
                    )
                    .unwrap_or_else(|| vec![true; n_stages].into_boxed_slice()),
                    None => {
                        ctx.err(
                            format!("{p}.in"),
                            "parse",
                            "a timeout rule needs `in`: the stage(s) whose stay it times",
                        );
                        vec![false; n_stages].into_boxed_slice()
                    }
                };
                let within = match &r.within {
                    Some(w) => duration(&mut ctx, &format!("{p}.within"), w, true),
                    None => {
                        ctx.err(
                            format!("{p}.within"),
                            "parse",
                            "a timeout rule needs `within`: a duration",
                        );
                        1
                    }
                };
                let none_of = r
                    .none_of
                    .as_ref()
                    .map(|n| {
                        resolve_set(
                            &mut ctx,
                            &format!("{p}.none_of"),
                            "event kind",
                            n,
                            &kind_ix,
                            n_kinds,
                        )
                        .unwrap_or_else(|| vec![true; n_kinds].into_boxed_slice())
                    })
                    .unwrap_or_else(|| vec![false; n_kinds].into_boxed_slice());
                let restart_on = r
                    .restart_on
                    .as_ref()
                    .map(|n| {
                        resolve_set(
                            &mut ctx,
                            &format!("{p}.restart_on"),
                            "event kind",
                            n,
                            &kind_ix,
                            n_kinds,
                        )
                        .unwrap_or_else(|| vec![true; n_kinds].into_boxed_slice())
                    })
                    .unwrap_or_else(|| vec![false; n_kinds].into_boxed_slice());
                if let Some(to) = to {
                    if in_set
                        .iter()
                        .enumerate()
                        .all(|(s, on)| !*on || s == to as usize)
                        && acts.is_empty()
                    {
                        ctx.err(&p, "no_effect", format!("timeout `{}` moves customers to the stage they are in and has no actions", r.name));
                    }
                }
                for (s, on) in in_set.iter().enumerate() {
                    if *on {
                        stages[s].timeouts.push(i as RuleId);
                    }
                }
                rule_from.push(None);
                RuleBody::Timeout {
                    none_of,
                    restart_on,
                    within,
                }
            }
        };
        rules.push(Rule {
            name: r.name.as_str().into(),
            body,
            to,
            actions: acts,
        });
    }
    drop(rule_names);
    let scoring = spec
        .scoring
        .as_ref()
        .and_then(|sc| scoring(&mut ctx, sc, &stage_ix, n_stages));
    if props.props.len() >= u16::MAX as usize {
        ctx.err("properties", "too_many", "at most 65,534 property names");
    }
    for (s, r) in reached.iter().enumerate() {
        if !r {
            ctx.warnings.push(Problem {
                path: format!("stages[{s}]"),
                code: "unreachable_stage",
                message: format!("no rule leads to stage `{}`", stages[s].name),
            });
        }
    }
    if !ctx.problems.is_empty() {
        return Err(Error::InvalidModel {
            problems: ctx.problems,
        });
    }

    // Candidate table: per (stage, kind), the transition rules to try, in order.
    let mut cand_start = Vec::with_capacity(n_stages * n_kinds + 1);
    let mut cand = Vec::new();
    for s in 0..n_stages {
        for k in 0..n_kinds {
            cand_start.push(cand.len() as u32);
            for (i, r) in rules.iter().enumerate() {
                if let RuleBody::Transition { on, .. } = &r.body {
                    let from_ok = rule_from[i].as_ref().is_none_or(|f| f[s]);
                    if from_ok && on[k] {
                        cand.push(i as RuleId);
                    }
                }
            }
        }
    }
    cand_start.push(cand.len() as u32);

    Ok(Compiled {
        lateness,
        identities,
        channels,
        kinds,
        stages,
        rules,
        actions,
        prop_ix: props.ix,
        props: props.props,
        identity_ix: identity_ix.into(),
        channel_ix: channel_ix.into(),
        kind_ix: kind_ix.into(),
        stage_ix,
        cand_start,
        cand,
        warnings: ctx.warnings,
        scoring,
        spec,
    })
}

/// Validates a scoring table; `None` when it has problems (reported in `ctx`).
fn scoring(
    ctx: &mut Ctx,
    sc: &ScoringSpec,
    stage_ix: &HashMap<Arc<str>, StageId>,
    n_stages: usize,
) -> Option<Scoring> {
    let before = ctx.problems.len();
    let target = stage_ix.get(sc.target.as_str()).copied();
    if target.is_none() {
        ctx.err(
            "scoring.target",
            "unknown_stage",
            format!("unknown stage `{}`", sc.target),
        );
    }
    if let Some(h) = &sc.horizon {
        duration(ctx, "scoring.horizon", h, true);
    }
    let mut stages = vec![None; n_stages];
    for (name, st) in &sc.stages {
        let p = format!("scoring.stages.{name}");
        let Some(&s) = stage_ix.get(name.as_str()) else {
            ctx.err(&p, "unknown_stage", format!("unknown stage `{name}`"));
            continue;
        };
        if !(0.0..=1.0).contains(&st.p_convert) {
            ctx.err(
                format!("{p}.p_convert"),
                "out_of_range",
                format!(
                    "`p_convert` is a probability from 0 to 1, not {}",
                    st.p_convert
                ),
            );
        }
        let expected_time = st
            .expected_time
            .as_ref()
            .map(|t| duration(ctx, &format!("{p}.expected_time"), t, false));
        if Some(s) == target && (st.p_convert != 1.0 || expected_time != Some(0)) {
            ctx.err(
                &p,
                "out_of_range",
                "the target stage's figures are always `p_convert` 1 and `expected_time` \"0\"; list it so or not at all",
            );
        }
        stages[s as usize] = Some(StageScore {
            p_convert: st.p_convert,
            expected_time,
        });
    }
    let target = target?;
    stages[target as usize] = Some(StageScore {
        p_convert: 1.0,
        expected_time: Some(0),
    });
    (ctx.problems.len() == before).then_some(Scoring { target, stages })
}

#[cfg(test)]
mod tests {
    use crate::{Error, Model};

    fn problems(json: &str) -> Vec<(String, &'static str)> {
        match Model::from_json(json) {
            Err(Error::InvalidModel { problems }) => {
                problems.into_iter().map(|p| (p.path, p.code)).collect()
            }
            Ok(_) => vec![],
            Err(e) => panic!("unexpected {e}"),
        }
    }

    const BASE: &str = r#""jornada_model": 1, "name": "t", "identities": [{"kind": "customer_id"}],
        "channels": ["web", {"name": "sms", "consent": "opt_in"}], "event_kinds": ["view", "cart", "buy"],
        "properties": {"amount": "number", "sku": "string"}, "stages": ["a", "b", "c"]"#;

    #[test]
    fn reports_every_problem_with_its_path() {
        let p = problems(&format!(
            r#"{{{BASE}, "rules": [
            {{"name": "r1", "from": "zz", "on": ["view", "nope"], "to": "b"}},
            {{"name": "r1", "on": "buy", "channels": ["fax"], "to": "c", "when": {{"prop": "amount", "op": "=", "value": "x"}}}},
            {{"name": "t", "type": "timeout", "in": "b", "within": "soon", "to": "c"}},
            {{"name": "u", "on": "view", "when": {{"prop": "sku", "op": "<", "value": true}}, "to": "c"}},
            {{"name": "v", "on": "cart", "count": {{"at_least": 0, "within": "7d"}}, "to": "c", "actions": [{{"action": "x", "channel": "pager"}}]}}
        ]}}"#
        ));
        let expect = [
            ("rules[0].from", "unknown_stage"),
            ("rules[0].on[1]", "unknown_event_kind"),
            ("rules[1].name", "duplicate_name"),
            ("rules[1].channels[0]", "unknown_channel"),
            ("rules[1].when.value", "type_mismatch"),
            ("rules[2].within", "invalid_duration"),
            ("rules[3].when.op", "type_mismatch"),
            ("rules[3].when.value", "type_mismatch"),
            ("rules[4].actions[0].channel", "unknown_channel"),
            ("rules[4].count.at_least", "invalid_condition"),
        ];
        for (path, code) in expect {
            assert!(
                p.iter().any(|(pp, c)| pp == path && *c == code),
                "missing {path} {code} in {p:?}"
            );
        }
    }

    #[test]
    fn shadowed_and_ineffective_rules() {
        let p = problems(&format!(
            r#"{{{BASE}, "rules": [
            {{"name": "any_view", "on": "view", "to": "b"}},
            {{"name": "web_view", "from": "a", "on": "view", "channels": "web", "to": "c"}},
            {{"name": "noop", "on": "buy"}},
            {{"name": "self", "from": "c", "on": "buy", "to": "c"}}
        ]}}"#
        ));
        assert!(p.contains(&("rules[1]".into(), "never_fires")), "{p:?}");
        assert!(p.contains(&("rules[2]".into(), "no_effect")), "{p:?}");
        assert!(p.contains(&("rules[3]".into(), "no_effect")), "{p:?}");
    }

    #[test]
    fn parse_errors_name_the_path() {
        let p = problems(&format!(
            r#"{{{BASE}, "rules": [{{"name": "x", "on": "view", "to": "b", "whenn": {{}}}}]}}"#
        ));
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "rules[0].whenn");
        let p = problems(r#"{"jornada_model": 1, "name": "t", "identities": [{"kind": 5}]}"#);
        assert_eq!(p[0], ("identities[0].kind".into(), "parse"));
    }

    #[test]
    fn unreachable_stage_is_a_warning() {
        let m = Model::from_json(&format!(
            r#"{{{BASE}, "rules": [{{"name": "r", "on": "view", "to": "b"}}]}}"#
        ))
        .unwrap();
        assert_eq!(m.warnings().len(), 1);
        assert_eq!(m.warnings()[0].path, "stages[2]");
        assert_eq!(m.warnings()[0].code, "unreachable_stage");
    }

    #[test]
    fn scoring_table_is_validated_with_paths() {
        let p = problems(&format!(
            r#"{{{BASE}, "rules": [{{"name": "r", "on": "view", "to": "b"}}], "scoring": {{
            "target": "z", "horizon": "0", "stages": {{
                "a": {{"p_convert": 1.5, "expected_time": "soon"}},
                "q": {{"p_convert": 0.5}}}}}}}}"#
        ));
        assert_eq!(
            p,
            [
                ("scoring.target".to_string(), "unknown_stage"),
                ("scoring.horizon".to_string(), "invalid_duration"),
                ("scoring.stages.a.p_convert".to_string(), "out_of_range"),
                (
                    "scoring.stages.a.expected_time".to_string(),
                    "invalid_duration"
                ),
                ("scoring.stages.q".to_string(), "unknown_stage"),
            ]
        );
        let p = problems(&format!(
            r#"{{{BASE}, "scoring": {{"target": "b", "stages": {{"b": {{"p_convert": 0.9}}}}}}}}"#
        ));
        assert_eq!(p, [("scoring.stages.b".to_string(), "out_of_range")]);
        let p = problems(&format!(
            r#"{{{BASE}, "scoring": {{"target": "b", "stages": {{}}, "extra": 1}}}}"#
        ));
        assert_eq!(p, [("scoring.extra".to_string(), "parse")]);
    }

    #[test]
    fn scoring_table_round_trips() {
        let m = Model::from_json(&format!(
            r#"{{{BASE}, "rules": [{{"name": "r", "on": "view", "to": "b"}}], "scoring": {{
            "target": "c", "horizon": "30d", "description": "hand-made", "stages": {{
                "a": {{"p_convert": 0.1, "expected_time": "3d"}},
                "b": {{"p_convert": 0}},
                "c": {{"p_convert": 1, "expected_time": "0"}}}}}}}}"#
        ))
        .unwrap();
        let again = Model::from_json(&m.to_json()).unwrap();
        assert_eq!(again, m);
        assert_eq!(again.spec().scoring.as_ref().unwrap().stages.len(), 3);
        assert!(m.to_json().contains(r#""horizon": "30d""#));
    }

    #[test]
    fn reserved_identity_names() {
        let p = problems(
            r#"{"jornada_model": 1, "name": "t", "identities": [{"kind": "channel"}], "channels": ["w"], "event_kinds": ["v"], "stages": ["a"]}"#,
        );
        assert_eq!(p, vec![("identities[0].kind".to_string(), "reserved_name")]);
    }
}
