//! Prints AST back to rule-file text. Used by messages (`{expr}` holes) and by `fettle fmt`.

use super::ast::*;

fn prec(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => binop_prec(*op),
        ExprKind::Unary(UnOp::Not, _) => 3,
        ExprKind::Range { .. } => 5,
        ExprKind::Unary(UnOp::Neg, _) => 9,
        ExprKind::If(..) => 0,
        _ => 10,
    }
}

fn binop_prec(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 1,
        BinOp::And => 2,
        BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In | BinOp::NotIn => 4,
        BinOp::Coalesce => 6,
        BinOp::Add | BinOp::Sub => 7,
        BinOp::Mul | BinOp::Div => 8,
    }
}

/// Prints an expression with the fewest brackets that keep its meaning.
pub fn expr(e: &Expr) -> String {
    let mut s = String::new();
    write_expr(&mut s, e);
    s
}

fn child(out: &mut String, e: &Expr, min: u8) {
    if prec(e) < min {
        out.push('(');
        write_expr(out, e);
        out.push(')');
    } else {
        write_expr(out, e);
    }
}

/// Quotes a string literal.
pub fn quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Prints a literal.
pub fn lit(l: &Lit) -> String {
    match l {
        Lit::Int(n) => n.to_string(),
        Lit::Dec(x) => {
            let s = format!("{x}");
            if s.contains('.') { s } else { format!("{s}.0") }
        }
        Lit::Str(s) => quote(s),
        Lit::Date(d) => d.format("%Y-%m-%d").to_string(),
        Lit::Bool(b) => b.to_string(),
    }
}

fn write_expr(out: &mut String, e: &Expr) {
    match &e.kind {
        ExprKind::Lit(l) => out.push_str(&lit(l)),
        ExprKind::Duration(n, u) => {
            let unit = match (u, *n == 1) {
                (Unit::Days, true) => "day",
                (Unit::Days, false) => "days",
                (Unit::Weeks, true) => "week",
                (Unit::Weeks, false) => "weeks",
                (Unit::Months, true) => "month",
                (Unit::Months, false) => "months",
                (Unit::Years, true) => "year",
                (Unit::Years, false) => "years",
                (Unit::WorkingDays, true) => "working day",
                (Unit::WorkingDays, false) => "working days",
            };
            out.push_str(&format!("{n} {unit}"));
        }
        ExprKind::Path(p) => out.push_str(&p.dotted()),
        ExprKind::Unary(UnOp::Not, a) => {
            // `not` takes a bracketed operand unless it is a single term: `not (a ?? b)`.
            out.push_str("not ");
            child(out, a, 10);
        }
        ExprKind::Unary(UnOp::Neg, a) => {
            out.push('-');
            child(out, a, 10);
        }
        ExprKind::Binary(op, a, b) => {
            let p = binop_prec(*op);
            // Left-associative except `??`; comparisons do not chain.
            let (lmin, rmin) = match op {
                BinOp::Coalesce => (p + 1, p),
                BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::In | BinOp::NotIn => {
                    (p + 1, p + 1)
                }
                _ => (p, p + 1),
            };
            child(out, a, lmin);
            out.push(' ');
            out.push_str(op.as_str());
            out.push(' ');
            child(out, b, rmin);
        }
        ExprKind::Range { lo, hi, inclusive } => {
            // Bounds with `??` keep their brackets for the reader: `a ..< (b ?? c)`.
            child(out, lo, 7);
            out.push_str(if *inclusive { " ..= " } else { " ..< " });
            child(out, hi, 7);
        }
        ExprKind::Tuple(xs) => {
            out.push('(');
            out.push_str(&xs.iter().map(expr).collect::<Vec<_>>().join(", "));
            if xs.len() == 1 {
                out.push(',');
            }
            out.push(')');
        }
        ExprKind::If(c, a, b) => {
            out.push_str("if ");
            write_expr(out, c);
            out.push_str(" then ");
            write_expr(out, a);
            out.push_str(" else ");
            write_expr(out, b);
        }
        ExprKind::Call(n, args) => {
            out.push_str(&n.name);
            out.push('(');
            out.push_str(&args.iter().map(expr).collect::<Vec<_>>().join(", "));
            out.push(')');
        }
        ExprKind::Agg { func, set, arg } => {
            out.push_str(func.as_str());
            out.push('(');
            if let Some(v) = &set.var {
                out.push_str(&v.name);
                out.push_str(" in ");
            }
            out.push_str(&set.source.dotted());
            if let Some(f) = &set.filter {
                out.push_str(" where ");
                write_expr(out, f);
            }
            if let Some(a) = arg {
                out.push_str(", ");
                write_expr(out, a);
            }
            out.push(')');
        }
    }
}
