//! What a message needs to be resolved: each of its variables, and the variant keys it selects
//! on, read from the message's syntax tree. The script export ([`crate::script`]) and the
//! catalogue's tests read messages through this.

use fluent_syntax::ast::{
    CallArguments, Expression, InlineExpression, Pattern, PatternElement, VariantKey,
};
use std::collections::{BTreeMap, BTreeSet};

/// Each variable of a message by name, with the keys of the variants it selects (none when it
/// is only shown).
pub(crate) type Variables = BTreeMap<String, Variable>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Variable {
    pub keys: BTreeSet<Key>,
    /// The keys of the default variants (`*[other]`) of the selections on it.
    pub defaults: BTreeSet<Key>,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Key {
    Number(String),
    Name(String),
}

/// The variables of `pattern` (a message's value).
pub(crate) fn of_pattern(pattern: &Pattern<&str>) -> Variables {
    let mut out = Variables::new();
    pattern_variables(pattern, &mut out);
    out
}

fn pattern_variables(pattern: &Pattern<&str>, out: &mut Variables) {
    for element in &pattern.elements {
        if let PatternElement::Placeable { expression } = element {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(expression: &Expression<&str>, out: &mut Variables) {
    match expression {
        Expression::Select { selector, variants } => {
            if let InlineExpression::VariableReference { id } = selector {
                let variable = out.entry(id.name.to_owned()).or_default();
                for variant in variants {
                    let key = match &variant.key {
                        VariantKey::Identifier { name } => Key::Name((*name).to_owned()),
                        VariantKey::NumberLiteral { value } => Key::Number((*value).to_owned()),
                    };
                    if variant.default {
                        variable.defaults.insert(key.clone());
                    }
                    variable.keys.insert(key);
                }
            } else {
                inline_variables(selector, out);
            }
            for variant in variants {
                pattern_variables(&variant.value, out);
            }
        }
        Expression::Inline(inline) => inline_variables(inline, out),
    }
}

fn inline_variables(inline: &InlineExpression<&str>, out: &mut Variables) {
    let mut arguments = |args: &CallArguments<&str>| {
        for arg in &args.positional {
            inline_variables(arg, out);
        }
        for arg in &args.named {
            inline_variables(&arg.value, out);
        }
    };
    match inline {
        InlineExpression::VariableReference { id } => {
            out.entry(id.name.to_owned()).or_default();
        }
        InlineExpression::FunctionReference { arguments: a, .. } => arguments(a),
        InlineExpression::TermReference {
            arguments: Some(a), ..
        } => arguments(a),
        InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}
