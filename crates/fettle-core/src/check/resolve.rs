//! Name resolution and typing of values, derived fields and rules: every name becomes an id, every
//! expression gets a type. The tables and code lists are declared first (schema_build.rs), rules'
//! examples are checked against them (examples.rs), and aggregates are planned where they are
//! resolved (plan.rs).

use super::builtins::{self, Builtin};
use super::program::*;
use super::{Decls, field_type_to_type, type_to_field_type};
use crate::diag::{Diag, did_you_mean};
use crate::schema::*;
use crate::span::Span;
use crate::syntax::ast::{self, AggFn, BinOp, Expr, ExprKind, Lit, Severity, UnOp, Unit};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

#[derive(Clone, Debug)]
enum Slot {
    Pending,
    Busy,
    Done(usize, Type),
    Failed,
}

#[derive(Clone, Debug)]
enum ScopeKind {
    Row(TableId),
    Item(Type),
    Group(TableId, Type),
}

#[derive(Clone, Debug)]
struct Scope {
    var: VarId,
    kind: ScopeKind,
    alias: Option<String>,
    implicit: bool,
}

#[derive(Clone, Debug, Default)]
struct Env {
    scopes: Vec<Scope>,
    lets: Vec<(String, Type)>,
    next_var: u32,
    /// Parameters may not read data.
    constant: bool,
}

impl Env {
    fn fresh(&mut self) -> VarId {
        let v = VarId(self.next_var);
        self.next_var += 1;
        v
    }
}

pub(super) struct Checker<'d> {
    pub(super) decls: &'d Decls,
    pub schema: Schema,
    pub diags: Vec<Diag>,
    pub(super) list_ids: HashMap<String, CodeListId>,
    global_slots: HashMap<String, Slot>,
    pub globals_done: Vec<Global>,
    derived_slots: HashMap<(TableId, FieldId), (usize, Slot)>,
    pub derived_done: Vec<DerivedField>,
    pub order: Vec<Derivation>,
    used_globals: HashSet<String>,
}

pub(super) fn err(code: &'static str, span: Span, msg: impl Into<String>) -> Diag {
    Diag::error(code, span, msg)
}

impl<'d> Checker<'d> {
    pub fn new(decls: &'d Decls) -> Self {
        Checker {
            decls,
            schema: Schema::default(),
            diags: vec![],
            list_ids: HashMap::new(),
            global_slots: HashMap::new(),
            globals_done: vec![],
            derived_slots: HashMap::new(),
            derived_done: vec![],
            order: vec![],
            used_globals: HashSet::new(),
        }
    }

    /// Adds a field to its table for every derived field, typed when resolved.
    pub fn derived_slots(&mut self) {
        for (i, d) in self.decls.derives.iter().enumerate() {
            let Some(t) = &d.table else {
                self.global_slots.insert(d.name.name.clone(), Slot::Pending);
                continue;
            };
            let Some(tid) = self.table_named(t) else { continue };
            let tbl = self.schema.table(tid);
            if let Some(f) = tbl.field_id(&d.name.name) {
                let first = self.schema.field(tid, f).span;
                self.diags.push(
                    err("check::duplicate", d.name.span, format!("table `{}` already has a field `{}`", t.name, d.name.name))
                        .related(first, "declared here"),
                );
                continue;
            }
            let fid = FieldId(tbl.fields.len() as u32);
            if let Some(ts) = self.schema.tables.get_mut(tid.0 as usize) {
                ts.fields.push(FieldSchema {
                    name: d.name.name.clone(),
                    ty: FieldType::Text,
                    required: false,
                    label: None,
                    headers: vec![],
                    xml: None,
                    derived: true,
                    span: d.name.span,
                });
            }
            self.derived_slots.insert((tid, fid), (i, Slot::Pending));
        }
        for p in &self.decls.params {
            if self.global_slots.insert(p.name.name.clone(), Slot::Pending).is_some() {
                self.diags.push(err("check::duplicate", p.name.span, format!("`{}` is both a param and a derive", p.name.name)));
            }
        }
    }

    pub(super) fn table_named(&mut self, id: &ast::Ident) -> Option<TableId> {
        match self.schema.table_id(&id.name) {
            Some(t) => Some(t),
            None => {
                let mut d =
                    err("check::unknown-table", id.span, format!("there is no table `{}`", id.name)).label("unknown table");
                d.help = did_you_mean(&id.name, self.schema.tables.iter().map(|t| t.name.as_str()));
                self.diags.push(d);
                None
            }
        }
    }

    pub fn all_globals(&mut self) {
        let names: Vec<String> = self.decls.params.iter().map(|p| p.name.name.clone()).collect();
        for n in names {
            self.global(&n, Span::default());
        }
        let names: Vec<String> = self.decls.derives.iter().filter(|d| d.table.is_none()).map(|d| d.name.name.clone()).collect();
        for n in names {
            self.global(&n, Span::default());
        }
    }

    pub fn all_derived(&mut self) {
        let keys: Vec<(TableId, FieldId)> = {
            let mut k: Vec<_> = self.derived_slots.keys().copied().collect();
            k.sort();
            k
        };
        for k in keys {
            self.derived(k.0, k.1, Span::default());
        }
    }

    /// Resolves a global by name (on first use), returning its index and type.
    fn global(&mut self, name: &str, at: Span) -> Option<(usize, Type)> {
        match self.global_slots.get(name).cloned() {
            None => None,
            Some(Slot::Done(i, t)) => Some((i, t)),
            Some(Slot::Failed) => Some((usize::MAX, Type::Error)),
            Some(Slot::Busy) => {
                self.diags.push(
                    err("check::cycle", at, format!("`{name}` is defined in terms of itself"))
                        .label("used in its own definition"),
                );
                self.global_slots.insert(name.to_string(), Slot::Failed);
                Some((usize::MAX, Type::Error))
            }
            Some(Slot::Pending) => {
                self.global_slots.insert(name.to_string(), Slot::Busy);
                let decls = self.decls;
                let (expr, is_param, span) = if let Some(p) = decls.params.iter().find(|p| p.name.name == name) {
                    (&p.value, true, p.name.span)
                } else if let Some(d) = decls.derives.iter().find(|d| d.table.is_none() && d.name.name == name) {
                    (&d.value, false, d.name.span)
                } else {
                    return None;
                };
                let mut env = Env { constant: is_param, ..Env::default() };
                let ie = self.expr(expr, &mut env);
                if matches!(ie.ty, Type::Duration(_)) {
                    self.diags
                        .push(err("check::type", ie.span, "a duration cannot be a value on its own").help("add it to a date"));
                }
                let ty = ie.ty.clone();
                let idx = self.globals_done.len();
                self.globals_done.push(Global { name: name.to_string(), expr: ie, is_param, span });
                self.order.push(Derivation::Global(idx));
                self.global_slots.insert(name.to_string(), Slot::Done(idx, ty.clone()));
                Some((idx, ty))
            }
        }
    }

    /// Resolves a derived field on first use, returning its type.
    fn derived(&mut self, t: TableId, f: FieldId, at: Span) -> Type {
        let Some((i, slot)) = self.derived_slots.get(&(t, f)).cloned() else {
            return field_type_to_type(&self.schema.field(t, f).ty);
        };
        match slot {
            Slot::Done(_, ty) => ty,
            Slot::Failed => Type::Error,
            Slot::Busy => {
                self.diags.push(
                    err("check::cycle", at, format!("`{}` is defined in terms of itself", self.schema.field(t, f).name))
                        .label("used in its own definition"),
                );
                self.derived_slots.insert((t, f), (i, Slot::Failed));
                Type::Error
            }
            Slot::Pending => {
                self.derived_slots.insert((t, f), (i, Slot::Busy));
                let decls = self.decls;
                let Some(d) = decls.derives.get(i) else { return Type::Error };
                let mut env = Env::default();
                let v = env.fresh();
                env.scopes.push(Scope { var: v, kind: ScopeKind::Row(t), alias: None, implicit: true });
                let ie = self.expr(&d.value, &mut env);
                let ty = ie.ty.clone();
                if let Some(ts) = self.schema.tables.get_mut(t.0 as usize)
                    && let Some(fs) = ts.fields.get_mut(f.0 as usize)
                {
                    fs.ty = type_to_field_type(&ty);
                }
                self.derived_done.push(DerivedField { table: t, field: f, expr: ie, span: d.name.span });
                self.order.push(Derivation::Field(self.derived_done.len() - 1));
                self.derived_slots.insert((t, f), (i, Slot::Done(0, ty.clone())));
                ty
            }
        }
    }

    pub fn detect(&mut self) -> Option<(TableId, FieldId)> {
        let p = self.decls.detect.clone()?;
        let segs: Vec<&str> = p.segments.iter().map(|s| s.name.as_str()).collect();
        let [t, f] = segs.as_slice() else {
            self.diags.push(err("check::detect", p.span, "`detect year from` needs `Table.Field`"));
            return None;
        };
        let tid = self.schema.table_id(t);
        let fid = tid.and_then(|tid| self.schema.table(tid).field_id(f));
        match (tid, fid) {
            (Some(tid), Some(fid)) if self.schema.table(tid).singleton && self.schema.field(tid, fid).ty == FieldType::Date => {
                Some((tid, fid))
            }
            _ => {
                self.diags.push(
                    err("check::detect", p.span, format!("`{}` is not a date field of a singleton table", p.dotted()))
                        .help("name the date that fixes the collection year, like `Header.ReferenceDate`"),
                );
                None
            }
        }
    }

    pub fn unused_warnings(&mut self) {
        for p in &self.decls.params {
            if !self.used_globals.contains(&p.name.name) {
                self.diags.push(
                    Diag::warning("check::unused-param", p.name.span, format!("param `{}` is never used", p.name.name))
                        .label("never used")
                        .help("remove it, or use it in a rule"),
                );
            }
        }
    }

    // ------------------------------------------------------------------ rules

    /// The rules that check without errors, and (for editors) those that do not, each with whether
    /// it has errors. A rule whose `on` table is unknown is left out either way.
    pub fn rules(&mut self, file_names: &dyn Fn(Span) -> (String, usize)) -> Vec<(RuleDef, bool)> {
        let decls = self.decls;
        let mut out = vec![];
        for r in &decls.rules {
            if let Some(def) = self.rule(r, file_names) {
                out.push(def);
            }
        }
        out
    }

    fn rule(&mut self, r: &ast::RuleDecl, file_names: &dyn Fn(Span) -> (String, usize)) -> Option<(RuleDef, bool)> {
        let before = self.diags.len();
        let mut env = Env::default();
        let scope = match &r.scope {
            ast::Scope::Return(_) => RuleScope::Return,
            ast::Scope::Table(t) => {
                let tid = self.table_named(t)?;
                let v = env.fresh();
                env.scopes.push(Scope { var: v, kind: ScopeKind::Row(tid), alias: None, implicit: true });
                RuleScope::Table(tid)
            }
            ast::Scope::Group(t, key) => {
                let tid = self.table_named(t)?;
                let mut kenv = Env::default();
                let v = kenv.fresh();
                kenv.scopes.push(Scope { var: v, kind: ScopeKind::Row(tid), alias: None, implicit: true });
                let k = self.expr(key, &mut kenv);
                let v = env.fresh();
                env.scopes.push(Scope { var: v, kind: ScopeKind::Group(tid, k.ty.clone()), alias: None, implicit: false });
                RuleScope::Group(tid, k)
            }
        };
        let mut steps = vec![];
        let mut lets = vec![];
        let mut has_check = false;
        for s in &r.steps {
            match s {
                ast::Step::When(e) => {
                    let ie = self.bool_expr(e, &mut env, "`when`");
                    steps.push(IStep::When(ie));
                }
                ast::Step::Let(name, e) => {
                    if lets.contains(&name.name) {
                        self.diags.push(err(
                            "check::duplicate",
                            name.span,
                            format!("`{}` is defined twice in this rule", name.name),
                        ));
                    }
                    let ie = self.expr(e, &mut env);
                    env.lets.push((name.name.clone(), ie.ty.clone()));
                    lets.push(name.name.clone());
                    steps.push(IStep::Let(lets.len() - 1, ie));
                }
                ast::Step::Require(e) => {
                    has_check = true;
                    steps.push(IStep::Require(self.bool_expr(e, &mut env, "`require`")));
                }
                ast::Step::Forbid(e) => {
                    has_check = true;
                    steps.push(IStep::Forbid(self.bool_expr(e, &mut env, "`forbid`")));
                }
            }
        }
        if !has_check && r.severity != Severity::Info {
            self.diags.push(
                err("check::no-check", r.code.span, format!("rule `{}` has no `require` or `forbid`", r.code.name))
                    .label("checks nothing")
                    .help("add `require <condition>` (fails where false) or `forbid <condition>` (fails where true)"),
            );
        }
        let mut report = vec![];
        for n in &r.report {
            match lets.iter().position(|l| *l == n.name) {
                Some(i) => report.push(i),
                None => {
                    let mut d =
                        err("check::unknown-name", n.span, format!("`{}` is not a `let` of this rule", n.name)).label("unknown");
                    d.help = did_you_mean(&n.name, lets.iter().map(String::as_str));
                    self.diags.push(d);
                }
            }
        }
        let mut fields = vec![];
        for p in &r.fields {
            if let Some(f) = self.field_path(p, &env) {
                fields.push(f);
            }
        }
        let mut template = vec![];
        let mut message = String::new();
        for part in &r.message.parts {
            match part {
                ast::TemplatePart::Text(t) => {
                    message.push_str(t);
                    template.push(IPart::Text(t.clone()));
                }
                ast::TemplatePart::Expr(e) => {
                    message.push('{');
                    message.push_str(&crate::syntax::print::expr(e));
                    message.push('}');
                    let ie = self.expr(e, &mut env);
                    template.push(IPart::Expr(ie));
                }
            }
        }
        for ex in &r.examples {
            self.example(ex);
        }
        let broken = self.diags.iter().skip(before).any(|d| d.level == crate::diag::Level::Error);
        let needs = self.needs(&steps_for_needs(&steps), &template);
        let def = RuleDef {
            code: r.code.name.clone(),
            severity: r.severity,
            message,
            template,
            scope,
            fields,
            lets,
            report,
            note: r.note.clone(),
            fix: r.fix.clone(),
            steps,
            examples: r.examples.clone(),
            needs,
            fixture: self.decls.rule_fixtures.get(&r.code.name).cloned().unwrap_or_else(|| self.decls.fixture.clone()),
            span: r.span,
            file: file_names(r.span).0,
            line: file_names(r.span).1,
            check_span: r.steps.iter().find_map(|s| match s {
                ast::Step::Require(e) | ast::Step::Forbid(e) => Some(e.span),
                _ => None,
            }),
            // Planned when the whole program is checked (check/rule_plan.rs).
            plan: RulePlan::default(),
        };
        Some((def, broken))
    }

    /// The other returns whose tables these expressions read.
    fn needs(&self, exprs: &[&IExpr], template: &[IPart]) -> Vec<String> {
        let mut out: Vec<String> = vec![];
        let mut add = |t: TableId| {
            if let Some((r, _)) = &self.schema.table(t).foreign
                && !out.contains(r)
            {
                out.push(r.clone());
            }
        };
        let mut visit = |e: &IExpr| {
            e.walk(&mut |x| match &x.kind {
                IKind::Field { table, .. } | IKind::Single { table, .. } => add(*table),
                IKind::Agg {
                    source: Source::Below { table, .. } | Source::All { table, .. } | Source::Group { table }, ..
                } => add(*table),
                _ => {}
            })
        };
        for e in exprs {
            visit(e);
        }
        for p in template {
            if let IPart::Expr(e) = p {
                visit(e);
            }
        }
        out
    }

    /// `fields` entries: `F` (of the rule's table or an ancestor) or `T.F`.
    fn field_path(&mut self, p: &ast::Path, env: &Env) -> Option<(TableId, FieldId)> {
        let segs = &p.segments;
        let (tid, fname) = match segs.as_slice() {
            [f] => {
                let Some(Scope { kind: ScopeKind::Row(t), .. } | Scope { kind: ScopeKind::Group(t, _), .. }) = env.scopes.first()
                else {
                    self.diags.push(err(
                        "check::unknown-field",
                        f.span,
                        format!("write `Table.{}` in a rule on the return", f.name),
                    ));
                    return None;
                };
                let mut found = None;
                let mut chain = vec![*t];
                chain.extend(self.schema.ancestors(*t));
                for c in chain {
                    if let Some(fid) = self.schema.table(c).field_id(&f.name) {
                        found = Some((c, fid));
                        break;
                    }
                }
                match found {
                    Some(x) => return Some(x),
                    None => (*t, f),
                }
            }
            [t, f] => (self.table_named(t)?, f),
            [r, t, f] => (self.table_named(&ast::Ident { name: format!("{}.{}", r.name, t.name), span: r.span.to(t.span) })?, f),
            _ => {
                self.diags.push(err("check::unknown-field", p.span, "a field is `Name` or `Table.Name`"));
                return None;
            }
        };
        match self.schema.table(tid).field_id(&fname.name) {
            Some(fid) => Some((tid, fid)),
            None => {
                self.diags.push(self.unknown_field(tid, fname));
                None
            }
        }
    }

    pub(super) fn unknown_field(&self, t: TableId, f: &ast::Ident) -> Diag {
        let tbl = self.schema.table(t);
        let mut d =
            err("check::unknown-field", f.span, format!("table `{}` has no field `{}`", tbl.name, f.name)).label("unknown field");
        d.help = did_you_mean(&f.name, tbl.fields.iter().map(|x| x.name.as_str()));
        d
    }

    // ------------------------------------------------------------ expressions

    fn bool_expr(&mut self, e: &Expr, env: &mut Env, what: &str) -> IExpr {
        let ie = self.expr(e, env);
        if !matches!(ie.ty, Type::Bool | Type::Error) {
            self.diags.push(
                err("check::type", e.span, format!("{what} needs a yes/no condition, this is a {}", ie.ty.describe()))
                    .label(format!("a {}", ie.ty.describe())),
            );
        }
        ie
    }

    fn expr(&mut self, e: &Expr, env: &mut Env) -> IExpr {
        let span = e.span;
        let mk = |kind, ty| IExpr { kind, ty, span };
        match &e.kind {
            ExprKind::Lit(l) => {
                let (c, t) = match l {
                    Lit::Int(n) => (Const::Int(*n), Type::Int),
                    Lit::Dec(x) => (Const::Dec(*x), Type::Dec),
                    Lit::Str(s) => (Const::Text(Arc::from(s.as_str())), Type::Text),
                    Lit::Date(d) => (Const::Date(*d), Type::Date),
                    Lit::Bool(b) => (Const::Bool(*b), Type::Bool),
                };
                mk(IKind::Const(c), t)
            }
            ExprKind::Duration(n, u) => mk(IKind::Duration(*n, *u), Type::Duration(*u)),
            ExprKind::Path(p) => self.path(p, env),
            ExprKind::Unary(UnOp::Not, a) => {
                let a = self.bool_expr(a, env, "`not`");
                mk(IKind::Not(Box::new(a)), Type::Bool)
            }
            ExprKind::Unary(UnOp::Neg, a) => {
                let a = self.expr(a, env);
                if !a.ty.numeric() {
                    self.diags.push(err("check::type", a.span, format!("cannot negate a {}", a.ty.describe())));
                }
                let t = a.ty.clone();
                mk(IKind::Neg(Box::new(a)), t)
            }
            ExprKind::Binary(op @ (BinOp::In | BinOp::NotIn), x, set) => self.membership(*op == BinOp::NotIn, x, set, env, span),
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, env, span),
            ExprKind::Range { .. } => {
                self.diags.push(
                    err("check::type", span, "a range is only used after `in`")
                        .help("write `x in a ..= b` (inclusive) or `x in a ..< b`"),
                );
                mk(IKind::Const(Const::Null), Type::Error)
            }
            ExprKind::Tuple(_) => {
                self.diags.push(err("check::type", span, "a list of values in brackets is only used after `in`"));
                mk(IKind::Const(Const::Null), Type::Error)
            }
            ExprKind::If(c, a, b) => {
                let c = self.bool_expr(c, env, "`if`");
                let a = self.expr(a, env);
                let b = self.expr(b, env);
                if !a.ty.comparable(&b.ty) {
                    self.diags.push(
                        err(
                            "check::type",
                            b.span,
                            format!("`then` gives a {} but `else` a {}", a.ty.describe(), b.ty.describe()),
                        )
                        .label("different type"),
                    );
                }
                let t = unify(&a.ty, &b.ty);
                mk(IKind::If(Box::new(c), Box::new(a), Box::new(b)), t)
            }
            ExprKind::Call(name, args) => self.call(name, args, env, span),
            ExprKind::Agg { func, set, arg } => self.aggregate(*func, set, arg.as_deref(), env, span),
        }
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, env: &mut Env, span: Span) -> IExpr {
        let ia = self.expr(a, env);
        let ib = self.expr(b, env);
        let ty = match op {
            BinOp::And | BinOp::Or => {
                for x in [&ia, &ib] {
                    if !matches!(x.ty, Type::Bool | Type::Error) {
                        self.diags.push(
                            err(
                                "check::type",
                                x.span,
                                format!("`{}` needs yes/no values, this is a {}", op.as_str(), x.ty.describe()),
                            )
                            .label(format!("a {}", x.ty.describe())),
                        );
                    }
                }
                Type::Bool
            }
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                if !ia.ty.comparable(&ib.ty) || matches!(ia.ty, Type::Duration(_) | Type::List(_)) {
                    self.diags.push(
                        err("check::type", span, format!("cannot compare a {} with a {}", ia.ty.describe(), ib.ty.describe()))
                            .label(format!("{} `{}` {}", ia.ty.describe(), op.as_str(), ib.ty.describe()))
                            .help("compare values of the same kind: dates with dates, numbers with numbers, text with text"),
                    );
                }
                self.code_literal(&ia, &ib);
                self.code_literal(&ib, &ia);
                Type::Bool
            }
            BinOp::Coalesce => {
                if matches!(ia.kind, IKind::Const(_)) {
                    self.diags.push(
                        Diag::warning(
                            "check::coalesce-constant",
                            span,
                            "the value before `??` is a constant, so `??` does nothing",
                        )
                        .label("a constant is never missing")
                        .help("`??` binds tighter than comparisons: write `(a == b) ?? false` to default a comparison"),
                    );
                }
                if !ia.ty.comparable(&ib.ty) {
                    self.diags.push(
                        err(
                            "check::type",
                            span,
                            format!("`??` needs a fallback of the same type: {} and {}", ia.ty.describe(), ib.ty.describe()),
                        )
                        .label("different types"),
                    );
                }
                unify(&ia.ty, &ib.ty)
            }
            BinOp::Add | BinOp::Sub => match (&ia.ty, &ib.ty) {
                (Type::Date, Type::Duration(_)) => Type::Date,
                (Type::Text | Type::Code(_), Type::Text | Type::Code(_)) if op == BinOp::Add => Type::Text,
                (Type::Date, Type::Date) if op == BinOp::Sub => Type::Int,
                (x, y) if x.numeric() && y.numeric() => unify(x, y),
                (Type::Duration(_), _) => {
                    self.diags.push(
                        err("check::type", span, "a duration goes after the date: `date - 45 working days`")
                            .label("duration first"),
                    );
                    Type::Error
                }
                _ => {
                    self.diags.push(
                        err(
                            "check::type",
                            span,
                            format!(
                                "cannot {} a {} and a {}",
                                if op == BinOp::Add { "add" } else { "subtract" },
                                ia.ty.describe(),
                                ib.ty.describe()
                            ),
                        )
                        .label("incompatible operands")
                        .help("dates take durations (`+ 30 days`); numbers take numbers"),
                    );
                    Type::Error
                }
            },
            BinOp::Mul | BinOp::Div => {
                for x in [&ia, &ib] {
                    if !x.ty.numeric() {
                        self.diags.push(err(
                            "check::type",
                            x.span,
                            format!("`{}` needs numbers, this is a {}", op.as_str(), x.ty.describe()),
                        ));
                    }
                }
                if op == BinOp::Div { Type::Dec } else { unify(&ia.ty, &ib.ty) }
            }
            BinOp::In | BinOp::NotIn => Type::Bool,
        };
        // A date moved by a duration is its own node: eval runs it, never looks at operands' shapes.
        match (op, &ib.kind) {
            (BinOp::Add | BinOp::Sub, IKind::Duration(k, unit)) => {
                let by = if op == BinOp::Sub { k.saturating_neg() } else { *k };
                IExpr { kind: IKind::Shift(Box::new(ia), by, *unit), ty, span }
            }
            _ => IExpr { kind: IKind::Binary(op, Box::new(ia), Box::new(ib)), ty, span },
        }
    }

    /// A text literal compared with a code must be one of the list's codes.
    fn code_literal(&mut self, code: &IExpr, lit: &IExpr) {
        if let (Type::Code(l), IKind::Const(Const::Text(s))) = (&code.ty, &lit.kind) {
            let list = self.schema.code_list(*l);
            if !list.contains(s) {
                let mut d = err("check::unknown-code", lit.span, format!("`{s}` is not a code of `{}`", list.name))
                    .label("not in the list");
                d.help = did_you_mean(s, list.codes.iter().map(|(c, _)| c.as_str()));
                self.diags.push(d);
            }
        }
    }

    fn membership(&mut self, negate: bool, x: &Expr, set: &Expr, env: &mut Env, span: Span) -> IExpr {
        let ix = self.expr(x, env);
        let mk = |kind| IExpr { kind, ty: Type::Bool, span };
        match &set.kind {
            ExprKind::Path(p)
                if let [one] = p.segments.as_slice()
                    && self.list_ids.contains_key(&one.name)
                    && !self.shadowed(&one.name, env) =>
            {
                let Some(lid) = self.list_ids.get(&one.name).copied() else { return mk(IKind::Const(Const::Null)) };
                if !ix.ty.comparable(&Type::Text) {
                    self.diags.push(err(
                        "check::type",
                        ix.span,
                        format!("a code list holds text, this is a {}", ix.ty.describe()),
                    ));
                }
                let s: HashSet<String> = self.schema.code_list(lid).set.clone();
                mk(IKind::InSet(Box::new(ix), Arc::new(s), negate))
            }
            ExprKind::Tuple(items) => {
                let items: Vec<IExpr> = items.iter().map(|i| self.expr(i, env)).collect();
                for i in &items {
                    if !ix.ty.comparable(&i.ty) {
                        self.diags.push(
                            err(
                                "check::type",
                                i.span,
                                format!("a {} cannot be among {} values", i.ty.describe(), ix.ty.describe()),
                            )
                            .label("wrong type"),
                        );
                    }
                    self.code_literal(&ix, i);
                }
                if items.iter().all(|i| matches!(i.kind, IKind::Const(Const::Text(_)))) {
                    let s = items
                        .iter()
                        .filter_map(|i| match &i.kind {
                            IKind::Const(Const::Text(t)) => Some(t.to_string()),
                            _ => None,
                        })
                        .collect();
                    mk(IKind::InSet(Box::new(ix), Arc::new(s), negate))
                } else {
                    mk(IKind::InTuple(Box::new(ix), items, negate))
                }
            }
            ExprKind::Range { lo, hi, inclusive } => {
                let lo = self.expr(lo, env);
                let hi = self.expr(hi, env);
                for b in [&lo, &hi] {
                    if !ix.ty.comparable(&b.ty) {
                        self.diags.push(
                            err(
                                "check::type",
                                b.span,
                                format!("a {} cannot bound a range of {} values", b.ty.describe(), ix.ty.describe()),
                            )
                            .label("wrong type"),
                        );
                    }
                }
                mk(IKind::InRange { x: Box::new(ix), lo: Box::new(lo), hi: Box::new(hi), inclusive: *inclusive, negate })
            }
            _ => {
                let s = self.expr(set, env);
                match &s.ty {
                    Type::List(inner) => {
                        if !ix.ty.comparable(inner) {
                            self.diags.push(err(
                                "check::type",
                                span,
                                format!("a {} cannot be in a {}", ix.ty.describe(), s.ty.describe()),
                            ));
                        }
                        mk(IKind::InList(Box::new(ix), Box::new(s), negate))
                    }
                    Type::Error => mk(IKind::Const(Const::Null)),
                    other => {
                        self.diags.push(
                            err(
                                "check::type",
                                set.span,
                                format!("`in` needs a code list, `(a, b)`, a range or a list; this is a {}", other.describe()),
                            )
                            .label("not a set"),
                        );
                        mk(IKind::Const(Const::Null))
                    }
                }
            }
        }
    }

    fn shadowed(&self, name: &str, env: &Env) -> bool {
        env.lets.iter().any(|(n, _)| n == name) || env.scopes.iter().any(|s| s.alias.as_deref() == Some(name))
    }

    fn call(&mut self, name: &ast::Ident, args: &[Expr], env: &mut Env, span: Span) -> IExpr {
        let iargs: Vec<IExpr> = args.iter().map(|a| self.expr(a, env)).collect();
        let Some(b) = Builtin::lookup(&name.name) else {
            let mut d = err("check::unknown-function", name.span, format!("there is no function `{}`", name.name))
                .label("unknown function");
            d.help = did_you_mean(&name.name, builtins::ALL.iter().map(|(n, _)| *n));
            if matches!(name.name.as_str(), "count" | "exists" | "none" | "all" | "min" | "max" | "sum" | "distinct" | "share") {
                d.help = Some(format!("`{}` takes related rows: `{}(Table where ...)`", name.name, name.name));
            }
            self.diags.push(d);
            return IExpr { kind: IKind::Const(Const::Null), ty: Type::Error, span };
        };
        let (params, ret) = b.signature();
        let mut iargs = iargs;
        // `round` and `percent` take an optional number of decimal places.
        if matches!(b, Builtin::Round | Builtin::Percent) && iargs.len() == 1 {
            iargs.push(IExpr { kind: IKind::Const(Const::Int(if b == Builtin::Round { 0 } else { 1 })), ty: Type::Int, span });
        }
        if iargs.len() != params.len() {
            self.diags.push(
                err(
                    "check::arity",
                    span,
                    format!(
                        "`{}` takes {} argument{}, not {}",
                        name.name,
                        params.len(),
                        if params.len() == 1 { "" } else { "s" },
                        iargs.len()
                    ),
                )
                .label("wrong number of arguments")
                .help(format!("`{}`: {}", name.name, b.describe())),
            );
            return IExpr { kind: IKind::Const(Const::Null), ty: Type::Error, span };
        }
        for (a, p) in iargs.iter().zip(&params) {
            if let Some(p) = p {
                let ok = match p {
                    Type::Dec => a.ty.numeric(),
                    other => a.ty.comparable(other),
                };
                if !ok {
                    self.diags.push(
                        err(
                            "check::type",
                            a.span,
                            format!("`{}` needs a {} here, this is a {}", name.name, p.describe(), a.ty.describe()),
                        )
                        .label(format!("a {}", a.ty.describe())),
                    );
                }
            }
        }
        IExpr { kind: IKind::Call(b, iargs), ty: ret, span }
    }

    fn aggregate(&mut self, func: AggFn, set: &ast::SetExpr, arg: Option<&Expr>, env: &mut Env, span: Span) -> IExpr {
        let err_expr = IExpr { kind: IKind::Const(Const::Null), ty: Type::Error, span };
        let Some((source, kind)) = self.set_source(&set.source, env) else { return err_expr };
        let var = env.fresh();
        let alias = set.var.as_ref().map(|v| v.name.clone());
        let implicit = alias.is_none();
        env.scopes.push(Scope { var, kind: kind.clone(), alias, implicit });
        let filter = set.filter.as_ref().map(|f| Box::new(self.bool_expr(f, env, "`where`")));
        let iarg = arg.map(|a| self.expr(a, env));
        env.scopes.pop();
        let item_ty = match &kind {
            ScopeKind::Item(t) => Some(t.clone()),
            _ => None,
        };
        let ty = match func {
            AggFn::Count | AggFn::Distinct => Type::Int,
            AggFn::Exists | AggFn::None | AggFn::All => Type::Bool,
            AggFn::Share => Type::Dec,
            AggFn::List => match (&iarg, &item_ty) {
                (Some(a), _) => Type::List(Box::new(a.ty.clone())),
                (None, Some(t)) => Type::List(Box::new(t.clone())),
                (None, None) => Type::Error,
            },
            AggFn::Min | AggFn::Max | AggFn::Sum => match (&iarg, &item_ty) {
                (Some(a), _) => a.ty.clone(),
                (None, Some(t)) => t.clone(),
                (None, None) => Type::Error,
            },
        };
        let needs_arg = match func {
            AggFn::All | AggFn::Share => true,
            AggFn::Min | AggFn::Max | AggFn::Sum | AggFn::Distinct | AggFn::List => item_ty.is_none(),
            _ => false,
        };
        if needs_arg && iarg.is_none() {
            self.diags.push(
                err("check::arity", span, format!("`{}` over rows needs a second argument", func.as_str()))
                    .help(format!("write `{}(Table, expression)`", func.as_str())),
            );
            return err_expr;
        }
        if !needs_arg && iarg.is_some() && matches!(func, AggFn::Count | AggFn::Exists | AggFn::None) {
            self.diags.push(
                err("check::arity", span, format!("`{}` takes one argument; filter with `where`", func.as_str()))
                    .help(format!("write `{}(Table where condition)`", func.as_str())),
            );
        }
        if let (AggFn::All | AggFn::Share, Some(a)) = (func, &iarg)
            && !matches!(a.ty, Type::Bool | Type::Error)
        {
            self.diags.push(err("check::type", a.span, format!("`{}` needs a yes/no condition", func.as_str())));
        }
        if let (AggFn::Sum, Some(a)) = (func, &iarg)
            && !a.ty.numeric()
        {
            self.diags.push(err("check::type", a.span, format!("`sum` needs numbers, this is a {}", a.ty.describe())));
        }
        // Plan joins for whole-table sources: equal keys from the filter's `==` conjuncts.
        let source = match source {
            Source::All { table, .. } => {
                let mut keys = vec![];
                if let Some(f) = &filter {
                    super::plan::collect_keys(f, var, &mut keys);
                }
                let outer_is_row = env.scopes.iter().any(|s| matches!(s.kind, ScopeKind::Row(_)));
                let single = self.schema.table(table).singleton;
                if keys.is_empty() && outer_is_row && !single {
                    self.diags.push(
                        Diag::warning("check::cross-join", set.source.span, format!("every row of `{}` is compared with every row here", self.schema.table(table).name))
                            .label("all rows of the return")
                            .help(format!("to mean rows of the same record, name the parent: `Parent.{}`; to join on a value, add `where x.Key == Key`", self.schema.table(table).name)),
                    );
                }
                Source::All { table, keys }
            }
            s => s,
        };
        let plan = super::plan::aggregate(func, &source, var, filter.as_deref(), iarg.as_ref());
        IExpr { kind: IKind::Agg { func, source, var, filter, arg: iarg.map(Box::new), plan }, ty, span }
    }

    /// Resolves the `from` of an aggregate: rows below an anchor, every row, a group's rows, or a list.
    fn set_source(&mut self, p: &ast::Path, env: &mut Env) -> Option<(Source, ScopeKind)> {
        let segs = &p.segments;
        let first = segs.first()?;
        // Another return's table, `cin.Disabilities`: like a table named in one word.
        let dotted = p.dotted();
        let p = &if segs.len() == 2 && self.schema.table_id(&dotted).is_some() {
            ast::Path { segments: vec![ast::Ident { name: dotted.clone(), span: p.span }], span: p.span }
        } else {
            p.clone()
        };
        let segs = &p.segments;
        // A list value?
        let table_name = segs.last().map(|s| s.name.as_str()).unwrap_or("");
        if segs.len() == 1 && self.schema.table_id(table_name).is_none() {
            let known_field = env.scopes.iter().any(|s| match s.kind {
                ScopeKind::Row(t) => {
                    let mut chain = vec![t];
                    chain.extend(self.schema.ancestors(t));
                    chain.iter().any(|c| self.schema.table(*c).field_id(table_name).is_some())
                }
                _ => s.alias.as_deref() == Some(table_name),
            }) || env.lets.iter().any(|(n, _)| n == table_name);
            if !known_field && let Some(help) = did_you_mean(table_name, self.schema.tables.iter().map(|t| t.name.as_str())) {
                self.diags.push(
                    err("check::unknown-table", first.span, format!("there is no table `{table_name}`"))
                        .label("unknown table")
                        .help(help),
                );
                return None;
            }
            let ie = self.path(p, env);
            return match &ie.ty {
                Type::List(t) => {
                    let t = (**t).clone();
                    Some((Source::List(Box::new(ie)), ScopeKind::Item(t)))
                }
                Type::Error => None,
                other => {
                    self.diags.push(
                        err(
                            "check::type",
                            p.span,
                            format!("expected rows or a list here, `{}` is a {}", p.dotted(), other.describe()),
                        )
                        .label("not rows"),
                    );
                    None
                }
            };
        }
        let last = segs.last()?;
        let Some(tid) = self.schema.table_id(&last.name) else {
            if segs.len() == 2 {
                // alias.ListField or Table.ListField
                let ie = self.path(p, env);
                if let Type::List(t) = &ie.ty {
                    let t = (**t).clone();
                    return Some((Source::List(Box::new(ie)), ScopeKind::Item(t)));
                }
            }
            self.table_named(last);
            return None;
        };
        if segs.len() == 1 {
            // The group's rows?
            if let Some(Scope { kind: ScopeKind::Group(g, _), .. }) = env.scopes.first()
                && *g == tid
                && env.scopes.len() == 1
            {
                return Some((Source::Group { table: tid }, ScopeKind::Row(tid)));
            }
            // Rows below a row in scope (innermost first).
            for s in env.scopes.iter().rev() {
                if let ScopeKind::Row(t) = s.kind
                    && s.implicit
                    && self.schema.ancestors(tid).contains(&t)
                {
                    return Some((Source::Below { var: s.var, anchor: t, table: tid }, ScopeKind::Row(tid)));
                }
            }
            return Some((Source::All { table: tid, keys: vec![] }, ScopeKind::Row(tid)));
        }
        if segs.len() != 2 {
            self.diags.push(err("check::unknown-table", p.span, "related rows are `Table` or `Anchor.Table`"));
            return None;
        }
        let anchor = &first.name;
        // `this.T`, `alias.T`, or `Ancestor.T`.
        let mut found: Option<(VarId, TableId)> = None;
        if anchor == "this" {
            if let Some(Scope { var, kind: ScopeKind::Row(t), .. }) = env.scopes.first() {
                found = Some((*var, *t));
            }
        } else if let Some(s) = env.scopes.iter().rev().find(|s| s.alias.as_deref() == Some(anchor.as_str())) {
            if let ScopeKind::Row(t) = s.kind {
                found = Some((s.var, t));
            }
        } else if let Some(aid) = self.schema.table_id(anchor) {
            for s in env.scopes.iter().rev() {
                if let ScopeKind::Row(t) = s.kind
                    && (s.implicit || s.alias.is_none())
                    && self.schema.is_ancestor_or_self(aid, t)
                {
                    found = Some((s.var, aid));
                    break;
                }
            }
            if found.is_none() {
                self.diags.push(
                    err("check::unrelated", first.span, format!("no row of `{anchor}` is in scope here"))
                        .label("not an ancestor of this rule's rows")
                        .help(format!("write `{}` for every row of the return", last.name)),
                );
                return None;
            }
        } else {
            let mut d = err("check::unknown-table", first.span, format!("`{anchor}` is neither a table nor a name in scope"))
                .label("unknown");
            d.help = did_you_mean(anchor, self.schema.tables.iter().map(|t| t.name.as_str()));
            self.diags.push(d);
            return None;
        }
        let (var, anchor_t) = found?;
        if !self.schema.ancestors(tid).contains(&anchor_t) {
            self.diags.push(
                err(
                    "check::unrelated",
                    p.span,
                    format!("`{}` rows are not below `{}`", last.name, self.schema.table(anchor_t).name),
                )
                .label("not a child table")
                .help(format!("name a table that `{}` belongs to", last.name)),
            );
            return None;
        }
        Some((Source::Below { var, anchor: anchor_t, table: tid }, ScopeKind::Row(tid)))
    }

    fn path(&mut self, p: &ast::Path, env: &mut Env) -> IExpr {
        let span = p.span;
        let error = IExpr { kind: IKind::Const(Const::Null), ty: Type::Error, span };
        // Last year's or another return's singleton, `last.Header.ReferenceDate`: one table name.
        let joined;
        let p = match p.segments.as_slice() {
            [a, b, rest @ ..] if !rest.is_empty() && self.schema.table_id(&format!("{}.{}", a.name, b.name)).is_some() => {
                let mut segments = vec![ast::Ident { name: format!("{}.{}", a.name, b.name), span: a.span.to(b.span) }];
                segments.extend(rest.iter().cloned());
                joined = ast::Path { segments, span };
                &joined
            }
            _ => p,
        };
        let segs = &p.segments;
        let Some(first) = segs.first() else { return error };
        let rest = segs.get(1..).unwrap_or(&[]);
        if env.constant {
            // Parameters: only other parameters and constants.
            if segs.len() == 1
                && let Some((i, t)) = self.global(&first.name, first.span)
            {
                self.used_globals.insert(first.name.clone());
                return IExpr { kind: IKind::Global(i), ty: t, span };
            }
            self.diags.push(
                err("check::param-reads-data", span, format!("a param is a fixed value and cannot read `{}`", p.dotted()))
                    .help("use `derive` for values computed from the data"),
            );
            return error;
        }
        if first.name == "this" {
            return match env.scopes.first().cloned() {
                Some(Scope { var, kind: ScopeKind::Row(t), .. }) => {
                    if rest.is_empty() {
                        IExpr { kind: IKind::Row(var), ty: Type::Row(t), span }
                    } else {
                        self.field_chain(var, t, rest, span)
                    }
                }
                Some(Scope { kind: ScopeKind::Group(_, kt), .. }) if rest.is_empty() => {
                    IExpr { kind: IKind::GroupKey, ty: kt, span }
                }
                _ => {
                    self.diags.push(
                        err("check::no-row", first.span, "`this` is a row, and this rule runs on the whole return")
                            .label("no row here"),
                    );
                    error
                }
            };
        }
        if let Some(s) = env.scopes.iter().rev().find(|s| s.alias.as_deref() == Some(first.name.as_str())).cloned() {
            return match s.kind {
                ScopeKind::Row(t) if rest.is_empty() => IExpr { kind: IKind::Row(s.var), ty: Type::Row(t), span },
                ScopeKind::Row(t) => self.field_chain(s.var, t, rest, span),
                ScopeKind::Item(ty) if rest.is_empty() => IExpr { kind: IKind::Item(s.var), ty, span },
                ScopeKind::Item(_) if rest.len() == 1 && rest.first().is_some_and(|r| r.name == "position") => {
                    IExpr { kind: IKind::ItemPos(s.var), ty: Type::Int, span }
                }
                _ => {
                    self.diags.push(
                        err(
                            "check::unknown-field",
                            span,
                            format!("`{}` is a list item; it has only `{}.position`", first.name, first.name),
                        )
                        .label("not a field"),
                    );
                    error
                }
            };
        }
        if rest.is_empty()
            && let Some(i) = env.lets.iter().rposition(|(n, _)| *n == first.name)
        {
            let ty = env.lets.get(i).map_or(Type::Error, |(_, t)| t.clone());
            return IExpr { kind: IKind::Let(i), ty, span };
        }
        // Fields of rows in scope (innermost first), then of their ancestors.
        let scopes: Vec<Scope> = env.scopes.iter().rev().filter(|s| s.implicit).cloned().collect();
        for s in &scopes {
            let ScopeKind::Row(t) = s.kind else {
                if let ScopeKind::Item(ty) = &s.kind
                    && rest.is_empty()
                    && first.name == "item"
                {
                    return IExpr { kind: IKind::Item(s.var), ty: ty.clone(), span };
                }
                continue;
            };
            let mut chain = vec![t];
            chain.extend(self.schema.ancestors(t));
            if rest.is_empty() {
                for c in &chain {
                    if let Some(f) = self.schema.table(*c).field_id(&first.name) {
                        return self.field_ref(s.var, *c, f, span);
                    }
                }
            } else if let Some(c) = chain.iter().find(|c| self.schema.table(**c).name == first.name) {
                return self.field_chain(s.var, *c, rest, span);
            }
        }
        // A singleton table's field.
        if let Some(tid) = self.schema.table_id(&first.name) {
            if self.schema.table(tid).singleton
                && let [f] = rest
            {
                return match self.schema.table(tid).field_id(&f.name) {
                    Some(fid) => {
                        let ty = self.field_type(tid, fid, span);
                        IExpr { kind: IKind::Single { table: tid, field: fid }, ty, span }
                    }
                    None => {
                        self.diags.push(self.unknown_field(tid, f));
                        error
                    }
                };
            }
            let hint = if rest.is_empty() {
                format!("a table is a set of rows: use `count({0})`, `exists({0} where ...)`", first.name)
            } else {
                format!(
                    "no `{}` row is in scope here; use `exists(x in {} where ...)` to look at its rows",
                    first.name, first.name
                )
            };
            self.diags.push(
                err("check::unrelated", span, format!("`{}` is not a row in scope", p.dotted())).label("not in scope").help(hint),
            );
            return error;
        }
        if rest.is_empty()
            && let Some((i, t)) = self.global(&first.name, first.span)
        {
            self.used_globals.insert(first.name.clone());
            return IExpr { kind: IKind::Global(i), ty: t, span };
        }
        if rest.is_empty() && self.list_ids.contains_key(&first.name) {
            self.diags.push(
                err("check::type", span, format!("`{}` is a code list, used only after `in`", first.name))
                    .help(format!("write `x in {}`", first.name)),
            );
            return error;
        }
        // Unknown: suggest from everything visible.
        let mut cands: Vec<String> = vec![];
        for s in &env.scopes {
            if let Some(a) = &s.alias {
                cands.push(a.clone());
            }
            if let ScopeKind::Row(t) = s.kind {
                let mut chain = vec![t];
                chain.extend(self.schema.ancestors(t));
                for c in chain {
                    cands.extend(self.schema.table(c).fields.iter().map(|f| f.name.clone()));
                    cands.push(self.schema.table(c).name.clone());
                }
            }
        }
        cands.extend(env.lets.iter().map(|(n, _)| n.clone()));
        cands.extend(self.global_slots.keys().cloned());
        cands.extend(self.schema.tables.iter().filter(|t| t.singleton).map(|t| t.name.clone()));
        let what = if rest.is_empty() { "field or value" } else { "table" };
        let mut d = err("check::unknown-name", first.span, format!("unknown {what} `{}`", first.name)).label("not found");
        d.help = did_you_mean(&first.name, cands.iter().map(String::as_str));
        if d.help.is_none() {
            let names: Vec<&str> = self.schema.tables.iter().map(|t| t.name.as_str()).collect();
            for t in &self.schema.tables {
                if t.field_id(&first.name).is_some() {
                    d.help = Some(format!("`{}` is a field of `{}`, which is not in scope here", first.name, t.name));
                    break;
                }
            }
            let _ = names;
        }
        self.diags.push(d);
        error
    }

    fn field_type(&mut self, t: TableId, f: FieldId, at: Span) -> Type {
        if self.schema.field(t, f).derived { self.derived(t, f, at) } else { field_type_to_type(&self.schema.field(t, f).ty) }
    }

    fn field_ref(&mut self, var: VarId, t: TableId, f: FieldId, span: Span) -> IExpr {
        let ty = self.field_type(t, f, span);
        IExpr { kind: IKind::Field { var, table: t, field: f }, ty, span }
    }

    /// `rest` after a row of table `t`: `Field`, or `Ancestor.Field`.
    fn field_chain(&mut self, var: VarId, t: TableId, rest: &[ast::Ident], span: Span) -> IExpr {
        let error = IExpr { kind: IKind::Const(Const::Null), ty: Type::Error, span };
        match rest {
            [f] => match self.schema.table(t).field_id(&f.name) {
                Some(fid) => self.field_ref(var, t, fid, span),
                None => {
                    // A field of an ancestor, written without the ancestor's name.
                    for a in self.schema.ancestors(t) {
                        if let Some(fid) = self.schema.table(a).field_id(&f.name) {
                            return self.field_ref(var, a, fid, span);
                        }
                    }
                    self.diags.push(self.unknown_field(t, f));
                    error
                }
            },
            [a, f] => {
                let Some(aid) = self.schema.ancestors(t).into_iter().find(|x| self.schema.table(*x).name == a.name) else {
                    self.diags.push(
                        err(
                            "check::unrelated",
                            a.span,
                            format!("`{}` is not a table above `{}`", a.name, self.schema.table(t).name),
                        )
                        .label("not an ancestor"),
                    );
                    return error;
                };
                match self.schema.table(aid).field_id(&f.name) {
                    Some(fid) => self.field_ref(var, aid, fid, span),
                    None => {
                        self.diags.push(self.unknown_field(aid, f));
                        error
                    }
                }
            }
            _ => {
                self.diags.push(err("check::unknown-field", span, "too many parts in this name"));
                error
            }
        }
    }
}

fn unify(a: &Type, b: &Type) -> Type {
    match (a, b) {
        (Type::Error, x) | (x, Type::Error) => x.clone(),
        (Type::Int, Type::Dec) | (Type::Dec, Type::Int) => Type::Dec,
        (Type::Code(_), Type::Text) | (Type::Text, Type::Code(_)) => Type::Text,
        (x, _) => x.clone(),
    }
}

#[allow(dead_code)]
fn _unit_used(_: Unit) {}

fn steps_for_needs(steps: &[IStep]) -> Vec<&IExpr> {
    steps
        .iter()
        .map(|s| match s {
            IStep::When(e) | IStep::Let(_, e) | IStep::Require(e) | IStep::Forbid(e) => e,
        })
        .collect()
}
