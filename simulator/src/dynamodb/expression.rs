//! DynamoDB's expression language: condition, filter, key condition and projection
//! expressions. A tokenizer and a recursive-descent parser build the syntax tree; a second
//! pass checks placeholders and literal operand types (so a syntax error anywhere wins
//! over a semantic one, as in DynamoDB); evaluation follows DynamoDB's comparison rules.
//!
//! ```text
//! condition  ::= or
//! or         ::= and ("OR" and)*
//! and        ::= not ("AND" not)*
//! not        ::= "NOT" not | primary
//! primary    ::= "(" condition ")" | function "(" operand ("," operand)* ")"
//!              | operand comparator operand | operand "BETWEEN" operand "AND" operand
//!              | operand "IN" "(" operand ("," operand)* ")"
//! operand    ::= path | :value | "size" "(" path ")"
//! path       ::= (name | #name) ("." (name | #name) | "[" digits "]")*
//! projection ::= path ("," path)*
//! ```

use std::borrow::Cow;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

use super::DynamoError;
use super::table::KeySchema;
use super::value::{AttributeValue, Item, KeyValue, TYPE_NAMES};

/// DynamoDB's reserved words (the list in the developer guide), upper case.
static RESERVED: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("reserved_keywords.txt").lines().map(str::trim).filter(|l| !l.is_empty()).collect());

/// Most operands an `IN` list may hold.
const MAX_IN_OPERANDS: usize = 100;

pub fn is_reserved(word: &str) -> bool {
    RESERVED.contains(word.to_ascii_uppercase().as_str())
}

/// Which request member an expression came from; DynamoDB names it in its messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    KeyCondition,
    Filter,
    Projection,
}

impl ExprKind {
    pub fn member(self) -> &'static str {
        match self {
            Self::Condition => "ConditionExpression",
            Self::KeyCondition => "KeyConditionExpression",
            Self::Filter => "FilterExpression",
            Self::Projection => "ProjectionExpression",
        }
    }

    fn error(self, detail: impl AsRef<str>) -> DynamoError {
        DynamoError::validation(format!("Invalid {}: {}", self.member(), detail.as_ref()))
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    NamePlaceholder(String),
    ValuePlaceholder(String),
    Digits(String),
    Sym(&'static str),
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
}

const SYMBOLS: &[&str] = &["<=", ">=", "<>", "=", "<", ">", "(", ")", ",", ".", "[", "]"];

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn tokenize(src: &str, kind: ExprKind) -> Result<Vec<Token>, DynamoError> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut chars = src.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let word_end = |from: usize| src[from..].find(|c: char| !is_word(c)).map_or(src.len(), |n| from + n);
        let (tok, end) = if c.is_ascii_alphabetic() || c == '_' {
            let end = word_end(start);
            (Tok::Name(src[start..end].to_owned()), end)
        } else if c.is_ascii_digit() {
            let end = src[start..].find(|c: char| !c.is_ascii_digit()).map_or(src.len(), |n| start + n);
            (Tok::Digits(src[start..end].to_owned()), end)
        } else if c == '#' || c == ':' {
            let end = word_end(start + 1);
            if end == start + 1 {
                return Err(lexical_error(src, &tokens, start, kind));
            }
            let text = src[start..end].to_owned();
            (if c == '#' { Tok::NamePlaceholder(text) } else { Tok::ValuePlaceholder(text) }, end)
        } else if let Some(sym) = SYMBOLS.iter().find(|s| src[start..].starts_with(**s)) {
            (Tok::Sym(sym), start + sym.len())
        } else {
            return Err(lexical_error(src, &tokens, start, kind));
        };
        tokens.push(Token { tok, start, end });
        while chars.peek().is_some_and(|(i, _)| *i < end) {
            chars.next();
        }
    }
    tokens.push(Token { tok: Tok::Eof, start: src.len(), end: src.len() });
    Ok(tokens)
}

/// A character no token starts with: DynamoDB reports it as the token, near the text
/// around it.
fn lexical_error(src: &str, tokens: &[Token], at: usize, kind: ExprKind) -> DynamoError {
    let bad_len = src[at..].chars().next().map_or(1, char::len_utf8);
    let from = tokens.last().map_or(at, |t| t.start);
    let to = src[at + bad_len..].find(char::is_whitespace).map_or(src.len(), |n| at + bad_len + n);
    kind.error(format!("Syntax error; token: \"{}\", near: \"{}\"", &src[at..at + bad_len], &src[from..to]))
}

/// One element of a document path.
#[derive(Debug, Clone, PartialEq)]
pub enum Element {
    /// A name written in the expression.
    Name(String),
    /// `#placeholder`, resolved through `ExpressionAttributeNames`.
    Placeholder(String),
    /// `[n]`, an index into a list.
    Index(usize),
}

/// A document path: `a`, `#a.b[2].c`.
#[derive(Debug, Clone, PartialEq)]
pub struct Path(pub Vec<Element>);

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Path(Path),
    /// `:placeholder`, resolved through `ExpressionAttributeValues`.
    Value(String),
    Size(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparator {
    fn from_symbol(s: &str) -> Option<Self> {
        Some(match s {
            "=" => Self::Eq,
            "<>" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            _ => return None,
        })
    }

    pub fn symbol(self) -> &'static str {
        match self {
            Self::Eq => "=",
            Self::Ne => "<>",
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }

    /// The same comparison with its operands swapped (`:v < a` is `a > :v`).
    fn flipped(self) -> Self {
        match self {
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            same => same,
        }
    }

    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Self::Eq => ordering == Ordering::Equal,
            Self::Ne => ordering != Ordering::Equal,
            Self::Lt => ordering == Ordering::Less,
            Self::Le => ordering != Ordering::Greater,
            Self::Gt => ordering == Ordering::Greater,
            Self::Ge => ordering != Ordering::Less,
        }
    }
}

/// The functions that are conditions (`size` is an operand).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    AttributeExists,
    AttributeNotExists,
    AttributeType,
    BeginsWith,
    Contains,
}

impl Function {
    /// Function names are case-sensitive in DynamoDB.
    fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "attribute_exists" => Self::AttributeExists,
            "attribute_not_exists" => Self::AttributeNotExists,
            "attribute_type" => Self::AttributeType,
            "begins_with" => Self::BeginsWith,
            "contains" => Self::Contains,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::AttributeExists => "attribute_exists",
            Self::AttributeNotExists => "attribute_not_exists",
            Self::AttributeType => "attribute_type",
            Self::BeginsWith => "begins_with",
            Self::Contains => "contains",
        }
    }

    fn arity(self) -> usize {
        match self {
            Self::AttributeExists | Self::AttributeNotExists => 1,
            _ => 2,
        }
    }
}

/// A parsed condition (or filter, or key condition) expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    Or(Box<Condition>, Box<Condition>),
    And(Box<Condition>, Box<Condition>),
    Not(Box<Condition>),
    Compare(Operand, Comparator, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    /// A function whose first operand is a path (checked when parsed).
    Call(Function, Path, Option<Operand>),
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    kind: ExprKind,
}

fn keyword(tok: &Tok, word: &str) -> bool {
    matches!(tok, Tok::Name(n) if n.eq_ignore_ascii_case(word))
}

const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "BETWEEN", "IN"];

impl<'a> Parser<'a> {
    fn new(src: &'a str, kind: ExprKind) -> Result<Self, DynamoError> {
        if src.trim().is_empty() {
            return Err(kind.error("The expression can not be empty;"));
        }
        Ok(Self { src, tokens: tokenize(src, kind)?, pos: 0, kind })
    }

    fn peek(&self) -> &Tok {
        self.peek_at(0)
    }

    fn peek_at(&self, ahead: usize) -> &Tok {
        self.tokens.get(self.pos + ahead).or(self.tokens.last()).map_or(&Tok::Eof, |t| &t.tok)
    }

    fn advance(&mut self) -> Tok {
        let tok = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        tok
    }

    /// DynamoDB's syntax error: the offending token, and the text from the token before
    /// it to the token after it.
    fn syntax_error(&self) -> DynamoError {
        let i = self.pos.min(self.tokens.len().saturating_sub(1));
        let Some(token) = self.tokens.get(i) else { return self.kind.error("Syntax error; token: \"<EOF>\"") };
        let text = match token.tok {
            Tok::Eof => "<EOF>",
            _ => &self.src[token.start..token.end],
        };
        let from = i.checked_sub(1).and_then(|p| self.tokens.get(p)).map_or(token.start, |t| t.start);
        let to = self.tokens.get(i + 1).filter(|t| t.tok != Tok::Eof).map_or(token.end, |t| t.end);
        self.kind.error(format!("Syntax error; token: \"{text}\", near: \"{}\"", &self.src[from..to]))
    }

    fn expect_sym(&mut self, sym: &str) -> Result<(), DynamoError> {
        match self.peek() {
            Tok::Sym(s) if *s == sym => {
                self.advance();
                Ok(())
            }
            _ => Err(self.syntax_error()),
        }
    }

    fn expect_end(&self) -> Result<(), DynamoError> {
        if *self.peek() == Tok::Eof { Ok(()) } else { Err(self.syntax_error()) }
    }

    fn condition(&mut self) -> Result<Condition, DynamoError> {
        let mut left = self.conjunction()?;
        while keyword(self.peek(), "OR") {
            self.advance();
            left = Condition::Or(Box::new(left), Box::new(self.conjunction()?));
        }
        Ok(left)
    }

    fn conjunction(&mut self) -> Result<Condition, DynamoError> {
        let mut left = self.negation()?;
        while keyword(self.peek(), "AND") {
            self.advance();
            left = Condition::And(Box::new(left), Box::new(self.negation()?));
        }
        Ok(left)
    }

    fn negation(&mut self) -> Result<Condition, DynamoError> {
        if keyword(self.peek(), "NOT") {
            self.advance();
            return Ok(Condition::Not(Box::new(self.negation()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Condition, DynamoError> {
        if *self.peek() == Tok::Sym("(") {
            self.advance();
            let inner = self.condition()?;
            self.expect_sym(")")?;
            return Ok(inner);
        }
        if let (Tok::Name(name), Tok::Sym("(")) = (self.peek().clone(), self.peek_at(1)) {
            if let Some(function) = Function::from_name(&name) {
                return self.call(function);
            }
        }
        self.comparison()
    }

    fn call(&mut self, function: Function) -> Result<Condition, DynamoError> {
        self.advance();
        self.advance();
        let mut args = vec![self.operand()?];
        while *self.peek() == Tok::Sym(",") {
            self.advance();
            args.push(self.operand()?);
        }
        self.expect_sym(")")?;
        if args.len() != function.arity() {
            return Err(self.kind.error(format!(
                "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
                function.name(),
                args.len()
            )));
        }
        let mut args = args.into_iter();
        let Some(Operand::Path(path)) = args.next() else {
            return Err(self.kind.error(format!(
                "Operator or function requires a document path; operator or function: {}",
                function.name()
            )));
        };
        Ok(Condition::Call(function, path, args.next()))
    }

    fn comparison(&mut self) -> Result<Condition, DynamoError> {
        let left = self.operand()?;
        let comparator = match self.peek() {
            Tok::Sym(s) => Comparator::from_symbol(s),
            _ => None,
        };
        if let Some(op) = comparator {
            self.advance();
            return Ok(Condition::Compare(left, op, self.operand()?));
        }
        match self.peek().clone() {
            t if keyword(&t, "BETWEEN") => {
                self.advance();
                let low = self.operand()?;
                if !keyword(self.peek(), "AND") {
                    return Err(self.syntax_error());
                }
                self.advance();
                Ok(Condition::Between(left, low, self.operand()?))
            }
            t if keyword(&t, "IN") => {
                self.advance();
                self.expect_sym("(")?;
                let mut list = vec![self.operand()?];
                while *self.peek() == Tok::Sym(",") {
                    self.advance();
                    list.push(self.operand()?);
                }
                self.expect_sym(")")?;
                if list.len() > MAX_IN_OPERANDS {
                    return Err(self.kind.error(format!(
                        "The IN operator is provided with too many operands; number of operands: {}",
                        list.len()
                    )));
                }
                Ok(Condition::In(left, list))
            }
            _ if matches!(left, Operand::Size(_)) => Err(self.misused_function("size")),
            _ => Err(self.syntax_error()),
        }
    }

    fn misused_function(&self, name: &str) -> DynamoError {
        self.kind.error(format!("The function is not allowed to be used this way in an expression; function: {name}"))
    }

    fn operand(&mut self) -> Result<Operand, DynamoError> {
        match self.peek().clone() {
            Tok::ValuePlaceholder(v) => {
                self.advance();
                Ok(Operand::Value(v))
            }
            Tok::Name(name) if *self.peek_at(1) == Tok::Sym("(") => {
                if name != "size" {
                    return Err(match Function::from_name(&name) {
                        Some(_) => self.misused_function(&name),
                        None => self.kind.error(format!("Invalid function name; function: {name}")),
                    });
                }
                self.advance();
                self.advance();
                let arg = self.operand()?;
                self.expect_sym(")")?;
                match arg {
                    Operand::Path(p) => Ok(Operand::Size(p)),
                    _ => Err(self
                        .kind
                        .error("Operator or function requires a document path; operator or function: size")),
                }
            }
            Tok::Name(_) | Tok::NamePlaceholder(_) => Ok(Operand::Path(self.path()?)),
            _ => Err(self.syntax_error()),
        }
    }

    fn path_name(&mut self) -> Result<Element, DynamoError> {
        match self.peek().clone() {
            Tok::Name(n) if KEYWORDS.iter().any(|k| n.eq_ignore_ascii_case(k)) => Err(self.syntax_error()),
            Tok::Name(n) => {
                if is_reserved(&n) {
                    return Err(self
                        .kind
                        .error(format!("Attribute name is a reserved keyword; reserved keyword: {n}")));
                }
                self.advance();
                Ok(Element::Name(n))
            }
            Tok::NamePlaceholder(p) => {
                self.advance();
                Ok(Element::Placeholder(p))
            }
            _ => Err(self.syntax_error()),
        }
    }

    fn path(&mut self) -> Result<Path, DynamoError> {
        let mut elements = vec![self.path_name()?];
        loop {
            match self.peek() {
                Tok::Sym(".") => {
                    self.advance();
                    elements.push(self.path_name()?);
                }
                Tok::Sym("[") => {
                    self.advance();
                    let Tok::Digits(d) = self.peek().clone() else { return Err(self.syntax_error()) };
                    let index = d.parse().map_err(|_| self.syntax_error())?;
                    self.advance();
                    self.expect_sym("]")?;
                    elements.push(Element::Index(index));
                }
                _ => return Ok(Path(elements)),
            }
        }
    }
}

/// Parses a condition-like expression (condition, filter or key condition).
pub fn parse_condition(src: &str, kind: ExprKind) -> Result<Condition, DynamoError> {
    let mut p = Parser::new(src, kind)?;
    let c = p.condition()?;
    p.expect_end()?;
    Ok(c)
}

/// Parses a projection expression: paths separated by commas.
pub fn parse_projection(src: &str) -> Result<Vec<Path>, DynamoError> {
    let mut p = Parser::new(src, ExprKind::Projection)?;
    let mut paths = vec![p.path()?];
    while *p.peek() == Tok::Sym(",") {
        p.advance();
        paths.push(p.path()?);
    }
    p.expect_end()?;
    Ok(paths)
}

/// A request's `ExpressionAttributeNames` and `ExpressionAttributeValues`, and which of
/// them its expressions used (DynamoDB refuses unused ones).
pub struct Placeholders<'a> {
    names: &'a BTreeMap<String, String>,
    values: &'a BTreeMap<String, AttributeValue>,
    used_names: BTreeSet<String>,
    used_values: BTreeSet<String>,
}

impl<'a> Placeholders<'a> {
    pub fn new(names: &'a BTreeMap<String, String>, values: &'a BTreeMap<String, AttributeValue>) -> Self {
        Self { names, values, used_names: BTreeSet::new(), used_values: BTreeSet::new() }
    }

    fn name<'s>(&'s self, element: &'s Element) -> Option<&'s str> {
        match element {
            Element::Name(n) => Some(n),
            Element::Placeholder(p) => self.names.get(p).map(String::as_str),
            Element::Index(_) => None,
        }
    }

    fn value(&self, placeholder: &str) -> Option<&AttributeValue> {
        self.values.get(placeholder)
    }

    /// The attribute a path starts at.
    pub fn top_name<'s>(&'s self, path: &'s Path) -> Option<&'s str> {
        path.0.first().and_then(|e| self.name(e))
    }

    fn check_path(&mut self, path: &Path, kind: ExprKind) -> Result<(), DynamoError> {
        for e in &path.0 {
            if let Element::Placeholder(p) = e {
                if !self.names.contains_key(p) {
                    return Err(kind.error(format!(
                        "An expression attribute name used in the document path is not defined; attribute name: {p}"
                    )));
                }
                self.used_names.insert(p.clone());
            }
        }
        Ok(())
    }

    /// Checks an operand's placeholders; answers its literal value, if it is one.
    fn check_operand(&mut self, op: &Operand, kind: ExprKind) -> Result<Option<&'a AttributeValue>, DynamoError> {
        match op {
            Operand::Path(p) | Operand::Size(p) => self.check_path(p, kind).map(|()| None),
            Operand::Value(v) => {
                let values: &'a BTreeMap<String, AttributeValue> = self.values;
                let value = values.get(v).ok_or_else(|| {
                    kind.error(format!(
                        "An expression attribute value used in expression is not defined; attribute value: {v}"
                    ))
                })?;
                self.used_values.insert(v.clone());
                Ok(Some(value))
            }
        }
    }

    /// Checks a parsed expression: placeholders defined, literal operands of types the
    /// operator accepts. Run on every expression of a request before `check_all_used`.
    pub fn check(&mut self, c: &Condition, kind: ExprKind) -> Result<(), DynamoError> {
        let operand_type = |name: &str, v: &AttributeValue| {
            kind.error(format!(
                "Incorrect operand type for operator or function; operator or function: {name}, operand type: {}",
                v.type_name()
            ))
        };
        let orderable =
            |v: &AttributeValue| matches!(v, AttributeValue::S(_) | AttributeValue::N(_) | AttributeValue::B(_));
        match c {
            Condition::Or(a, b) | Condition::And(a, b) => {
                self.check(a, kind)?;
                self.check(b, kind)
            }
            Condition::Not(a) => self.check(a, kind),
            Condition::Compare(a, op, b) => {
                for side in [a, b] {
                    if let Some(v) = self.check_operand(side, kind)? {
                        if !matches!(op, Comparator::Eq | Comparator::Ne) && !orderable(v) {
                            return Err(operand_type(op.symbol(), v));
                        }
                    }
                }
                Ok(())
            }
            Condition::Between(a, low, high) => {
                self.check_operand(a, kind)?;
                let low = self.check_operand(low, kind)?;
                let high = self.check_operand(high, kind)?;
                for v in [low, high].into_iter().flatten() {
                    if !orderable(v) {
                        return Err(operand_type("BETWEEN", v));
                    }
                }
                if let (Some(l), Some(h)) = (low, high) {
                    if compare(l, h) == Some(Ordering::Greater) {
                        return Err(kind.error(format!(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {{{}}}, upper bound operand: AttributeValue: {{{}}}",
                            shown(l),
                            shown(h)
                        )));
                    }
                }
                Ok(())
            }
            Condition::In(a, list) => {
                self.check_operand(a, kind)?;
                list.iter().try_for_each(|o| self.check_operand(o, kind).map(|_| ()))
            }
            Condition::Call(f, path, arg) => {
                self.check_path(path, kind)?;
                let Some(arg) = arg else { return Ok(()) };
                let literal = self.check_operand(arg, kind)?;
                match (f, literal) {
                    (Function::AttributeType, Some(AttributeValue::S(t))) if TYPE_NAMES.contains(&t.as_str()) => Ok(()),
                    (Function::AttributeType, Some(AttributeValue::S(t))) => Err(kind.error(format!(
                        "Invalid attribute type name found; type: {t}, valid types: {{ B, NULL, SS, BOOL, L, BS, N, NS, S, M }}"
                    ))),
                    (Function::AttributeType, Some(v)) => Err(operand_type(f.name(), v)),
                    (Function::AttributeType, None) => Err(kind.error(
                        "Incorrect operand type for operator or function; operator or function: attribute_type, operand type: document path",
                    )),
                    (Function::BeginsWith, Some(v)) if !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)) => {
                        Err(operand_type(f.name(), v))
                    }
                    _ => Ok(()),
                }
            }
        }
    }

    /// Checks the paths of a projection expression, and that no two overlap.
    pub fn check_projection(&mut self, paths: &[Path]) -> Result<(), DynamoError> {
        for p in paths {
            self.check_path(p, ExprKind::Projection)?;
        }
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[..i] {
                let (shorter, longer) = if a.0.len() <= b.0.len() { (a, b) } else { (b, a) };
                if longer.0.starts_with(&shorter.0) {
                    return Err(ExprKind::Projection.error(format!(
                        "Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [{}], path two: [{}]",
                        self.shown_path(b),
                        self.shown_path(a)
                    )));
                }
            }
        }
        Ok(())
    }

    fn shown_path(&self, p: &Path) -> String {
        let parts: Vec<String> =
            p.0.iter()
                .map(|e| match e {
                    Element::Index(i) => format!("[{i}]"),
                    other => self.name(other).unwrap_or_default().to_owned(),
                })
                .collect();
        parts.join(", ")
    }

    /// Counts what `other` used as used here too.
    pub fn mark_used_from(&mut self, other: &Placeholders) {
        self.used_names.extend(other.used_names.iter().cloned());
        self.used_values.extend(other.used_values.iter().cloned());
    }

    /// DynamoDB refuses names and values the request defines but no expression uses.
    pub fn check_all_used(&self) -> Result<(), DynamoError> {
        let unused = |defined: Vec<&String>, used: &BTreeSet<String>| -> Vec<String> {
            defined.into_iter().filter(|k| !used.contains(*k)).cloned().collect()
        };
        let names = unused(self.names.keys().collect(), &self.used_names);
        if !names.is_empty() {
            return Err(DynamoError::validation(format!(
                "Value provided in ExpressionAttributeNames unused in expressions: keys: {{{}}}",
                names.join(", ")
            )));
        }
        let values = unused(self.values.keys().collect(), &self.used_values);
        if !values.is_empty() {
            return Err(DynamoError::validation(format!(
                "Value provided in ExpressionAttributeValues unused in expressions: keys: {{{}}}",
                values.join(", ")
            )));
        }
        Ok(())
    }

    /// The top-level attributes a condition reads.
    pub fn attributes_read(&self, c: &Condition) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        self.collect_attributes(c, &mut out);
        out
    }

    fn collect_attributes(&self, c: &Condition, out: &mut BTreeSet<String>) {
        let operand = |o: &Operand, out: &mut BTreeSet<String>| {
            if let Operand::Path(p) | Operand::Size(p) = o {
                out.extend(self.top_name(p).map(str::to_owned));
            }
        };
        match c {
            Condition::Or(a, b) | Condition::And(a, b) => {
                self.collect_attributes(a, out);
                self.collect_attributes(b, out);
            }
            Condition::Not(a) => self.collect_attributes(a, out),
            Condition::Compare(a, _, b) => {
                operand(a, out);
                operand(b, out);
            }
            Condition::Between(a, l, h) => [a, l, h].into_iter().for_each(|o| operand(o, out)),
            Condition::In(a, list) => std::iter::once(a).chain(list).for_each(|o| operand(o, out)),
            Condition::Call(_, p, arg) => {
                out.extend(self.top_name(p).map(str::to_owned));
                if let Some(a) = arg {
                    operand(a, out);
                }
            }
        }
    }

    fn resolve<'i>(&self, path: &Path, item: &'i Item) -> Option<&'i AttributeValue> {
        let mut elements = path.0.iter();
        let mut current = item.get(self.name(elements.next()?)?)?;
        for e in elements {
            current = match (e, current) {
                (Element::Index(i), AttributeValue::L(list)) => list.get(*i)?,
                (Element::Index(_), _) => return None,
                (named, AttributeValue::M(map)) => map.get(self.name(named)?)?,
                _ => return None,
            };
        }
        Some(current)
    }

    fn operand_value<'i>(&'i self, op: &Operand, item: &'i Item) -> Option<Cow<'i, AttributeValue>> {
        match op {
            Operand::Path(p) => self.resolve(p, item).map(Cow::Borrowed),
            Operand::Value(v) => self.value(v).map(Cow::Borrowed),
            Operand::Size(p) => size_of(self.resolve(p, item)?).map(|n| Cow::Owned(AttributeValue::N(n))),
        }
    }

    /// Whether the condition holds for `item` (`None`: there is no item).
    pub fn evaluate(&self, c: &Condition, item: Option<&Item>) -> bool {
        let empty = Item::new();
        self.holds(c, item.unwrap_or(&empty))
    }

    fn holds(&self, c: &Condition, item: &Item) -> bool {
        let value = |o: &Operand| self.operand_value(o, item);
        match c {
            Condition::Or(a, b) => self.holds(a, item) || self.holds(b, item),
            Condition::And(a, b) => self.holds(a, item) && self.holds(b, item),
            Condition::Not(a) => !self.holds(a, item),
            Condition::Compare(a, Comparator::Eq, b) => equal(value(a), value(b)),
            // `a <> b` is "not equal": true when a is missing or of another type.
            Condition::Compare(a, Comparator::Ne, b) => !equal(value(a), value(b)),
            Condition::Compare(a, op, b) => match (value(a), value(b)) {
                (Some(a), Some(b)) => compare(&a, &b).is_some_and(|o| op.holds(o)),
                _ => false,
            },
            Condition::Between(a, l, h) => match (value(a), value(l), value(h)) {
                (Some(a), Some(l), Some(h)) => {
                    compare(&a, &l).is_some_and(|o| o != Ordering::Less)
                        && compare(&a, &h).is_some_and(|o| o != Ordering::Greater)
                }
                _ => false,
            },
            Condition::In(a, list) => {
                let a = value(a);
                list.iter().any(|o| equal(a.clone(), value(o)))
            }
            Condition::Call(f, path, arg) => {
                let target = self.resolve(path, item);
                let arg = arg.as_ref().and_then(value);
                call(*f, target, arg.as_deref())
            }
        }
    }

    /// Applies a projection: the item with only the given paths, nested as they were.
    pub fn project(&self, item: &Item, paths: &[Path]) -> Item {
        let mut tree = Projected::Map(BTreeMap::new());
        for p in paths {
            if let Some(v) = self.resolve(p, item) {
                let keys: Option<Vec<ProjKey>> =
                    p.0.iter()
                        .map(|e| match e {
                            Element::Index(i) => Some(ProjKey::Index(*i)),
                            named => self.name(named).map(|n| ProjKey::Name(n.to_owned())),
                        })
                        .collect();
                if let Some(keys) = keys {
                    tree.insert(&keys, v.clone());
                }
            }
        }
        match tree.into_value() {
            AttributeValue::M(m) => m,
            _ => Item::new(),
        }
    }
}

fn equal(a: Option<Cow<'_, AttributeValue>>, b: Option<Cow<'_, AttributeValue>>) -> bool {
    matches!((a, b), (Some(a), Some(b)) if *a == *b)
}

/// Orders two scalars of the same type (`S` and `B` by bytes, `N` numerically); `None`
/// for anything else, which makes the comparison false rather than an error.
pub fn compare(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(a), AttributeValue::S(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        (AttributeValue::N(a), AttributeValue::N(b)) => Some(a.cmp(b)),
        (AttributeValue::B(a), AttributeValue::B(b)) => Some(a.cmp(b)),
        _ => None,
    }
}

/// `{N:5}`, as DynamoDB shows a value in a message.
fn shown(v: &AttributeValue) -> String {
    let inner = match v {
        AttributeValue::S(s) => s.clone(),
        AttributeValue::N(n) => n.to_string(),
        other => other.to_json().to_string(),
    };
    format!("{}:{inner}", v.type_name())
}

/// `size(path)`: characters of a string, bytes of a binary, members of a set, list or map.
fn size_of(v: &AttributeValue) -> Option<super::number::Number> {
    let n = match v {
        AttributeValue::S(s) => s.chars().count(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Ss(s) => s.len(),
        AttributeValue::Ns(s) => s.len(),
        AttributeValue::Bs(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        _ => return None,
    };
    Some(super::number::Number::from_u64(n as u64))
}

fn call(f: Function, target: Option<&AttributeValue>, arg: Option<&AttributeValue>) -> bool {
    use AttributeValue as V;
    match (f, target, arg) {
        (Function::AttributeExists, t, _) => t.is_some(),
        (Function::AttributeNotExists, t, _) => t.is_none(),
        (Function::AttributeType, Some(t), Some(V::S(name))) => t.type_name() == name,
        (Function::BeginsWith, Some(V::S(s)), Some(V::S(prefix))) => s.starts_with(prefix.as_str()),
        (Function::BeginsWith, Some(V::B(b)), Some(V::B(prefix))) => b.starts_with(prefix),
        (Function::Contains, Some(V::S(s)), Some(V::S(part))) => s.contains(part.as_str()),
        (Function::Contains, Some(V::Ss(set)), Some(V::S(m))) => set.contains(m),
        (Function::Contains, Some(V::Ns(set)), Some(V::N(m))) => set.contains(m),
        (Function::Contains, Some(V::Bs(set)), Some(V::B(m))) => set.contains(m),
        (Function::Contains, Some(V::L(list)), Some(m)) => list.contains(m),
        _ => false,
    }
}

enum ProjKey {
    Name(String),
    Index(usize),
}

/// A projection under construction: list elements keep their index until the end, when
/// the list closes up in index order (as DynamoDB answers `a[3], a[1]`: `[a[1], a[3]]`).
enum Projected {
    Leaf(AttributeValue),
    Map(BTreeMap<String, Projected>),
    List(BTreeMap<usize, Projected>),
}

impl Projected {
    fn insert(&mut self, keys: &[ProjKey], v: AttributeValue) {
        let Some((first, rest)) = keys.split_first() else { return };
        let fresh = || match rest.first() {
            None => Projected::Leaf(v.clone()),
            Some(ProjKey::Name(_)) => Projected::Map(BTreeMap::new()),
            Some(ProjKey::Index(_)) => Projected::List(BTreeMap::new()),
        };
        let child = match (self, first) {
            (Projected::Map(m), ProjKey::Name(n)) => m.entry(n.clone()).or_insert_with(fresh),
            (Projected::List(l), ProjKey::Index(i)) => l.entry(*i).or_insert_with(fresh),
            _ => return,
        };
        if !rest.is_empty() {
            child.insert(rest, v);
        }
    }

    fn into_value(self) -> AttributeValue {
        match self {
            Projected::Leaf(v) => v,
            Projected::Map(m) => AttributeValue::M(m.into_iter().map(|(k, v)| (k, v.into_value())).collect()),
            Projected::List(l) => AttributeValue::L(l.into_values().map(Projected::into_value).collect()),
        }
    }
}

/// The sort key part of a key condition.
#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Compare(Comparator, KeyValue),
    Between(KeyValue, KeyValue),
    BeginsWith(KeyValue),
}

impl SortCondition {
    pub fn matches(&self, v: &KeyValue) -> bool {
        match self {
            Self::Compare(op, x) => op.holds(v.cmp(x)),
            Self::Between(l, h) => v >= l && v <= h,
            Self::BeginsWith(KeyValue::S(p)) => matches!(v, KeyValue::S(s) if s.starts_with(p.as_str())),
            Self::BeginsWith(KeyValue::B(p)) => matches!(v, KeyValue::B(b) if b.starts_with(p)),
            Self::BeginsWith(KeyValue::N(_)) => false,
        }
    }
}

/// What a `KeyConditionExpression` selects: one partition, optionally a sort key range.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition: KeyValue,
    pub sort: Option<SortCondition>,
}

fn key_error(message: impl Into<String>) -> DynamoError {
    DynamoError::validation(message)
}

/// Reads a (checked) key condition against the table's key schema: `pk = :v`, optionally
/// `AND` one condition on the sort key (`=`, `<`, `<=`, `>`, `>=`, `BETWEEN`,
/// `begins_with`). Anything else is refused as DynamoDB refuses it.
pub fn key_condition(c: &Condition, ph: &Placeholders, schema: &KeySchema) -> Result<KeyCondition, DynamoError> {
    let mut parts = Vec::new();
    flatten_and(c, &mut parts)?;
    let mut by_key: Vec<(String, KeyPart)> = Vec::new();
    for part in parts {
        let (name, kp) = key_part(part, ph)?;
        if by_key.iter().any(|(n, _)| *n == name) {
            return Err(key_error("KeyConditionExpressions must only contain one condition per key"));
        }
        by_key.push((name, kp));
    }
    let hash = &schema.hash;
    let Some(pos) = by_key.iter().position(|(n, _)| *n == hash.name) else {
        return Err(key_error(format!("Query condition missed key schema element: {}", hash.name)));
    };
    let (_, hash_part) = by_key.remove(pos);
    let KeyPart::Compare(Comparator::Eq, partition) = hash_part else {
        return Err(key_error("Query key condition not supported"));
    };
    let partition = key_value(partition, &hash.name, hash.kind)?;
    let range = schema.range.as_ref();
    let sort = match (by_key.pop(), range) {
        (None, _) => None,
        (Some((name, part)), Some(range)) if by_key.is_empty() && name == range.name => {
            let kv = |v: &AttributeValue| key_value(v, &range.name, range.kind);
            Some(match part {
                KeyPart::Compare(op, v) => SortCondition::Compare(op, kv(v)?),
                KeyPart::Between(l, h) => SortCondition::Between(kv(l)?, kv(h)?),
                KeyPart::BeginsWith(p) => SortCondition::BeginsWith(kv(p)?),
            })
        }
        // A condition on another attribute: DynamoDB names the sort key if it is missing.
        (Some((name, _)), Some(range)) if name != range.name && by_key.iter().all(|(n, _)| *n != range.name) => {
            return Err(key_error(format!("Query condition missed key schema element: {}", range.name)));
        }
        _ => return Err(key_error("Query key condition not supported")),
    };
    Ok(KeyCondition { partition, sort })
}

enum KeyPart<'a> {
    Compare(Comparator, &'a AttributeValue),
    Between(&'a AttributeValue, &'a AttributeValue),
    BeginsWith(&'a AttributeValue),
}

fn flatten_and<'c>(c: &'c Condition, out: &mut Vec<&'c Condition>) -> Result<(), DynamoError> {
    match c {
        Condition::And(a, b) => {
            flatten_and(a, out)?;
            flatten_and(b, out)
        }
        Condition::Or(..) => Err(key_error("Invalid operator used in KeyConditionExpression: OR")),
        Condition::Not(..) => Err(key_error("Invalid operator used in KeyConditionExpression: NOT")),
        other => {
            out.push(other);
            Ok(())
        }
    }
}

/// One condition of a key condition: the key attribute it is on, and what it says.
fn key_part<'a>(c: &'a Condition, ph: &'a Placeholders) -> Result<(String, KeyPart<'a>), DynamoError> {
    let attribute = |p: &Path| -> Result<String, DynamoError> {
        match p.0.as_slice() {
            [single] => {
                ph.name(single).map(str::to_owned).ok_or_else(|| key_error("Query key condition not supported"))
            }
            _ => Err(key_error("Query key condition not supported")),
        }
    };
    let literal = |o: &Operand| match o {
        Operand::Value(v) => ph.value(v),
        _ => None,
    };
    let multiple =
        || key_error("Invalid condition in KeyConditionExpression: Multiple attribute names used in one condition");
    match c {
        Condition::Compare(_, Comparator::Ne, _) => {
            Err(key_error("Invalid operator used in KeyConditionExpression: <>"))
        }
        Condition::Compare(Operand::Size(_), ..) | Condition::Compare(_, _, Operand::Size(_)) => {
            Err(key_error("Invalid operator used in KeyConditionExpression: size"))
        }
        Condition::Compare(Operand::Path(p), op, b) => {
            Ok((attribute(p)?, KeyPart::Compare(*op, literal(b).ok_or_else(multiple)?)))
        }
        Condition::Compare(a, op, Operand::Path(p)) => {
            Ok((attribute(p)?, KeyPart::Compare(op.flipped(), literal(a).ok_or_else(multiple)?)))
        }
        Condition::Compare(..) => Err(key_error("Query key condition not supported")),
        Condition::Between(Operand::Path(p), l, h) => match (literal(l), literal(h)) {
            (Some(l), Some(h)) => Ok((attribute(p)?, KeyPart::Between(l, h))),
            _ => Err(multiple()),
        },
        Condition::Between(..) => Err(key_error("Query key condition not supported")),
        Condition::In(..) => Err(key_error("Invalid operator used in KeyConditionExpression: IN")),
        Condition::Call(Function::BeginsWith, p, Some(arg)) => {
            Ok((attribute(p)?, KeyPart::BeginsWith(literal(arg).ok_or_else(multiple)?)))
        }
        Condition::Call(f, ..) => {
            Err(key_error(format!("Invalid operator used in KeyConditionExpression: {}", f.name())))
        }
        Condition::Or(..) | Condition::And(..) | Condition::Not(..) => {
            Err(key_error("Query key condition not supported"))
        }
    }
}

fn key_value(v: &AttributeValue, name: &str, kind: &str) -> Result<KeyValue, DynamoError> {
    let kv = v.as_key().filter(|k| k.type_name() == kind).ok_or_else(|| {
        key_error("One or more parameter values were invalid: Condition parameter type does not match schema type")
    })?;
    if kv.is_empty() {
        return Err(key_error(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {name}"
        )));
    }
    Ok(kv)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::dynamodb::table::KeyAttribute;
    use crate::dynamodb::value::item_from_json;

    fn values(v: serde_json::Value) -> BTreeMap<String, AttributeValue> {
        item_from_json(v.as_object().unwrap()).unwrap()
    }

    fn names(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    /// Parses, checks and evaluates `expr` on `item`; the error message on failure.
    fn eval(expr: &str, n: &[(&str, &str)], v: serde_json::Value, item: serde_json::Value) -> Result<bool, String> {
        let names = names(n);
        let values = values(v);
        let mut ph = Placeholders::new(&names, &values);
        let c = parse_condition(expr, ExprKind::Condition).map_err(|e| e.message)?;
        ph.check(&c, ExprKind::Condition).map_err(|e| e.message)?;
        ph.check_all_used().map_err(|e| e.message)?;
        let item = item_from_json(item.as_object().unwrap()).unwrap();
        Ok(ph.evaluate(&c, Some(&item)))
    }

    fn holds(expr: &str, v: serde_json::Value, item: serde_json::Value) -> bool {
        eval(expr, &[], v, item).unwrap()
    }

    fn refused(expr: &str, n: &[(&str, &str)], v: serde_json::Value) -> String {
        eval(expr, n, v, json!({})).unwrap_err()
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let t = json!({":t": {"BOOL": true}});
        let tf = json!({":t": {"BOOL": true}, ":f": {"BOOL": false}});
        let item = json!({"a": {"BOOL": true}, "b": {"BOOL": false}});
        // OR binds loosest: a = :t OR (b = :t AND b = :t)
        assert!(holds("a = :t OR b = :t AND b = :t", t.clone(), item.clone()));
        // NOT binds tighter than AND: (NOT a = :t) AND b = :f
        assert!(!holds("NOT a = :t AND b = :f", tf.clone(), item.clone()));
        assert!(holds("NOT (a = :t AND b = :t)", t.clone(), item.clone()));
        assert!(holds("NOT NOT a = :t", t.clone(), item.clone()));
        assert!(!holds("(a = :t OR b = :t) AND b = :t", t, item.clone()));
        assert!(holds("a = :t and b = :f or a = :f", tf, item), "keywords are case-insensitive");
    }

    #[test]
    fn the_claim_idiom_works_on_missing_and_expired_items() {
        let expr = "attribute_not_exists(pk) OR #until < :now";
        let v = json!({":now": {"N": "1000"}});
        let run = |item| eval(expr, &[("#until", "until")], v.clone(), item).unwrap();
        assert!(run(json!({})));
        assert!(run(json!({"pk": {"S": "a"}, "until": {"N": "999"}})));
        assert!(!run(json!({"pk": {"S": "a"}, "until": {"N": "1000"}})));
        assert!(!run(json!({"pk": {"S": "a"}})), "a missing attribute makes < false");
    }

    #[test]
    fn comparisons_follow_dynamodb_type_rules() {
        let item = json!({"n": {"N": "10"}, "s": {"S": "b"}, "bin": {"B": "AQI="}, "big": {"N": "99999999999999999999999999999999999999"}});
        assert!(holds("n > :v", json!({":v": {"N": "9.5"}}), item.clone()));
        assert!(holds("n = :v", json!({":v": {"N": "1e1"}}), item.clone()), "numeric equality");
        assert!(!holds("n = :v", json!({":v": {"S": "10"}}), item.clone()), "different types are not equal");
        assert!(!holds("n < :v", json!({":v": {"S": "z"}}), item.clone()), "different types do not compare");
        assert!(holds("n <> :v", json!({":v": {"S": "10"}}), item.clone()));
        assert!(holds("nope <> :v", json!({":v": {"S": "x"}}), item.clone()), "<> holds for a missing attribute");
        assert!(!holds("nope = :v", json!({":v": {"S": "x"}}), item.clone()));
        assert!(!holds("nope >= :v", json!({":v": {"S": "x"}}), item.clone()));
        assert!(holds("s < :v", json!({":v": {"S": "c"}}), item.clone()));
        assert!(holds("s >= :v", json!({":v": {"S": "B"}}), item.clone()), "by UTF-8 bytes: 'b' > 'B'");
        assert!(holds("bin > :v", json!({":v": {"B": "AQE="}}), item.clone()));
        assert!(holds("big > :v", json!({":v": {"N": "99999999999999999999999999999999999998"}}), item.clone()));
        assert!(holds("n BETWEEN :a AND :b", json!({":a": {"N": "10"}, ":b": {"N": "11"}}), item.clone()));
        assert!(!holds("n BETWEEN :a AND :b", json!({":a": {"N": "11"}, ":b": {"N": "12"}}), item.clone()));
        assert!(holds("n IN (:a, :b)", json!({":a": {"N": "1"}, ":b": {"N": "10"}}), item.clone()));
        assert!(!holds("n IN (:a)", json!({":a": {"S": "10"}}), item.clone()));
        assert!(holds(":a = :a", json!({":a": {"N": "1"}}), item));
    }

    #[test]
    fn every_function_behaves_as_documented() {
        let item = json!({"s": {"S": "hello"}, "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}, "l": {"L": [{"N": "3"}, {"S": "q"}]},
            "m": {"M": {"child": {"S": "deep"}}}, "b": {"B": "AQID"}, "z": {"NULL": true}});
        let s = |v: &str| json!({":v": {"S": v}});
        assert!(holds("attribute_exists(s)", json!({}), item.clone()));
        assert!(!holds("attribute_exists(nope)", json!({}), item.clone()));
        assert!(holds("attribute_not_exists(nope)", json!({}), item.clone()));
        assert!(holds("attribute_exists(m.child)", json!({}), item.clone()), "nested paths");
        assert!(holds("attribute_exists(l[1])", json!({}), item.clone()));
        assert!(!holds("attribute_exists(l[2])", json!({}), item.clone()));
        assert!(holds("attribute_type(ss, :v)", s("SS"), item.clone()));
        assert!(holds("attribute_type(z, :v)", s("NULL"), item.clone()));
        assert!(!holds("attribute_type(s, :v)", s("N"), item.clone()));
        assert!(holds("begins_with(s, :v)", s("he"), item.clone()));
        assert!(!holds("begins_with(s, :v)", s("lo"), item.clone()));
        assert!(holds("begins_with(b, :v)", json!({":v": {"B": "AQI="}}), item.clone()));
        assert!(holds("contains(s, :v)", s("ell"), item.clone()));
        assert!(holds("contains(ss, :v)", s("y"), item.clone()));
        assert!(!holds("contains(ss, :v)", s("z"), item.clone()));
        assert!(holds("contains(ns, :v)", json!({":v": {"N": "2.0"}}), item.clone()));
        assert!(holds("contains(l, :v)", json!({":v": {"N": "3"}}), item.clone()));
        assert!(!holds("contains(ns, :v)", s("2"), item.clone()), "set members must have the set's type");
        assert!(holds("size(s) = :v", json!({":v": {"N": "5"}}), item.clone()));
        assert!(holds("size(ss) < :v", json!({":v": {"N": "3"}}), item.clone()));
        assert!(holds("size(m) = :v", json!({":v": {"N": "1"}}), item.clone()));
        assert!(holds("size(b) = :v", json!({":v": {"N": "3"}}), item.clone()));
        assert!(!holds("size(nope) >= :v", json!({":v": {"N": "0"}}), item.clone()));
        assert!(holds("m.child = :v", s("deep"), item.clone()));
        assert!(holds("l[1] = :v", s("q"), item));
    }

    #[test]
    fn placeholders_must_be_defined_and_used() {
        assert_eq!(
            refused("a = :x", &[], json!({})),
            "Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :x"
        );
        assert_eq!(
            refused("#a = :x", &[], json!({":x": {"S": "1"}})),
            "Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #a"
        );
        assert_eq!(
            refused("a = :x", &[], json!({":x": {"S": "1"}, ":y": {"S": "2"}})),
            "Value provided in ExpressionAttributeValues unused in expressions: keys: {:y}"
        );
        assert_eq!(
            refused("a = :x", &[("#b", "b"), ("#c", "c")], json!({":x": {"S": "1"}})),
            "Value provided in ExpressionAttributeNames unused in expressions: keys: {#b, #c}"
        );
    }

    #[test]
    fn reserved_words_must_go_through_placeholders() {
        assert_eq!(
            refused("status = :x", &[], json!({":x": {"S": "1"}})),
            "Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status"
        );
        assert!(refused("a.Data = :x", &[], json!({":x": {"S": "1"}})).ends_with("reserved keyword: Data"));
        assert!(eval("#s = :x", &[("#s", "status")], json!({":x": {"S": "1"}}), json!({})).is_ok());
        assert!(is_reserved("ttl") && is_reserved("SIZE") && !is_reserved("pk"));
    }

    #[test]
    fn syntax_errors_name_the_token_and_where() {
        assert_eq!(
            refused("a = = :x", &[], json!({":x": {"S": "1"}})),
            "Invalid ConditionExpression: Syntax error; token: \"=\", near: \"= = :x\""
        );
        assert_eq!(
            refused("attribute_exists(a) AND", &[], json!({})),
            "Invalid ConditionExpression: Syntax error; token: \"<EOF>\", near: \"AND\""
        );
        assert_eq!(
            refused("attribute_exists(my-attr)", &[], json!({})),
            "Invalid ConditionExpression: Syntax error; token: \"-\", near: \"my-attr)\""
        );
        assert!(refused("(a = :x", &[], json!({":x": {"S": "1"}})).contains("token: \"<EOF>\""));
        assert!(refused("a = :x)", &[], json!({":x": {"S": "1"}})).contains("token: \")\""));
        assert!(refused("a :x", &[], json!({":x": {"S": "1"}})).contains("token: \":x\""));
        assert!(refused("a BETWEEN :x OR :x", &[], json!({":x": {"S": "1"}})).contains("token: \"OR\""));
        assert_eq!(refused("", &[], json!({})), "Invalid ConditionExpression: The expression can not be empty;");
        assert!(refused("a[x] = :x", &[], json!({":x": {"S": "1"}})).contains("Syntax error"));
    }

    #[test]
    fn functions_are_checked_for_name_arity_and_operands() {
        let x = json!({":x": {"S": "1"}});
        assert_eq!(
            refused("ATTRIBUTE_EXISTS(a)", &[], json!({})),
            "Invalid ConditionExpression: Invalid function name; function: ATTRIBUTE_EXISTS"
        );
        assert!(refused("begins_with(a)", &[], json!({})).contains("Incorrect number of operands"));
        assert!(refused("attribute_exists(:x)", &[], x.clone()).contains("requires a document path"));
        assert!(refused("size(a)", &[], json!({})).contains("not allowed to be used this way"));
        assert!(
            refused("begins_with(a, :x)", &[], json!({":x": {"N": "1"}}))
                .ends_with("operator or function: begins_with, operand type: N")
        );
        assert!(
            refused("a < :x", &[], json!({":x": {"BOOL": true}}))
                .ends_with("operator or function: <, operand type: BOOL")
        );
        assert!(
            refused("attribute_type(a, :x)", &[], json!({":x": {"S": "STRING"}}))
                .contains("Invalid attribute type name")
        );
        assert!(
            refused("a BETWEEN :h AND :l", &[], json!({":h": {"N": "5"}, ":l": {"N": "1"}}))
                .contains("lower bound operand: AttributeValue: {N:5}, upper bound operand: AttributeValue: {N:1}")
        );
        let many: Vec<String> = (0..101).map(|_| ":x".to_owned()).collect();
        assert!(refused(&format!("a IN ({})", many.join(",")), &[], x).contains("too many operands"));
    }

    fn schema(range: Option<(&str, &'static str)>) -> KeySchema {
        KeySchema {
            hash: KeyAttribute { name: "pk".into(), kind: "S" },
            range: range.map(|(n, k)| KeyAttribute { name: n.into(), kind: k }),
        }
    }

    fn key_cond(expr: &str, n: &[(&str, &str)], v: serde_json::Value, s: &KeySchema) -> Result<KeyCondition, String> {
        let names = names(n);
        let values = values(v);
        let mut ph = Placeholders::new(&names, &values);
        let c = parse_condition(expr, ExprKind::KeyCondition).map_err(|e| e.message)?;
        ph.check(&c, ExprKind::KeyCondition).map_err(|e| e.message)?;
        key_condition(&c, &ph, s).map_err(|e| e.message)
    }

    #[test]
    fn key_conditions_take_the_supported_shapes() {
        let s = schema(Some(("sk", "S")));
        let v = json!({":p": {"S": "a"}, ":s": {"S": "b"}, ":t": {"S": "c"}});
        let k = key_cond("pk = :p", &[], json!({":p": {"S": "a"}}), &s).unwrap();
        assert_eq!(k, KeyCondition { partition: KeyValue::S("a".into()), sort: None });
        let k =
            key_cond("pk = :p AND begins_with(sk, :s)", &[], json!({":p": {"S": "a"}, ":s": {"S": "b"}}), &s).unwrap();
        assert_eq!(k.sort, Some(SortCondition::BeginsWith(KeyValue::S("b".into()))));
        let k = key_cond("#k BETWEEN :s AND :t AND pk = :p", &[("#k", "sk")], v.clone(), &s).unwrap();
        assert_eq!(k.sort, Some(SortCondition::Between(KeyValue::S("b".into()), KeyValue::S("c".into()))));
        let k = key_cond("(pk = :p) AND (:s < sk)", &[], json!({":p": {"S": "a"}, ":s": {"S": "b"}}), &s).unwrap();
        assert_eq!(k.sort, Some(SortCondition::Compare(Comparator::Gt, KeyValue::S("b".into()))));
    }

    #[test]
    fn other_key_conditions_are_refused_with_dynamodb_wording() {
        let s = schema(Some(("sk", "N")));
        let v = json!({":p": {"S": "a"}, ":s": {"N": "1"}});
        let refused = |expr: &str, v: serde_json::Value| key_cond(expr, &[], v, &s).unwrap_err();
        assert_eq!(refused("pk = :p OR sk = :s", v.clone()), "Invalid operator used in KeyConditionExpression: OR");
        assert_eq!(refused("sk = :s", json!({":s": {"N": "1"}})), "Query condition missed key schema element: pk");
        assert_eq!(refused("pk > :p", json!({":p": {"S": "a"}})), "Query key condition not supported");
        assert_eq!(refused("pk = :p AND extra = :s", v.clone()), "Query condition missed key schema element: sk");
        assert_eq!(refused("pk = :p AND sk = :s AND extra = :s", v.clone()), "Query key condition not supported");
        assert_eq!(
            refused("pk = :p AND sk > :s AND sk < :s", v.clone()),
            "KeyConditionExpressions must only contain one condition per key"
        );
        assert!(refused("pk = :p AND contains(sk, :s)", v.clone()).contains("contains"));
        assert!(refused("pk = :p AND sk IN (:s)", v.clone()).contains("IN"));
        assert_eq!(
            refused("pk = :p AND sk = :p", v.clone()),
            "One or more parameter values were invalid: Condition parameter type does not match schema type"
        );
        assert!(refused("pk = :e", json!({":e": {"S": ""}})).contains("cannot contain an empty string value. Key: pk"));
        assert!(refused("pk = :p AND begins_with(sk, :s)", v).contains("begins_with, operand type: N"));
    }

    #[test]
    fn sort_conditions_match_in_key_order() {
        let n = |s: &str| KeyValue::N(crate::dynamodb::number::Number::parse(s).unwrap());
        assert!(SortCondition::Compare(Comparator::Lt, n("10")).matches(&n("9")));
        assert!(SortCondition::Between(n("1"), n("2")).matches(&n("2")));
        assert!(!SortCondition::Between(n("1"), n("2")).matches(&n("2.5")));
        assert!(SortCondition::BeginsWith(KeyValue::S("ab".into())).matches(&KeyValue::S("abc".into())));
    }

    #[test]
    fn projections_keep_only_the_named_paths() {
        let names = names(&[("#s", "status")]);
        let values = BTreeMap::new();
        let mut ph = Placeholders::new(&names, &values);
        let paths = parse_projection("a, #s, m.x, l[2], l[0]").unwrap();
        ph.check_projection(&paths).unwrap();
        ph.check_all_used().unwrap();
        let item = item_from_json(
            json!({"a": {"S": "1"}, "b": {"S": "2"}, "status": {"S": "ok"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}},
                "l": {"L": [{"S": "l0"}, {"S": "l1"}, {"S": "l2"}]}})
            .as_object()
            .unwrap(),
        )
        .unwrap();
        let got = crate::dynamodb::value::item_to_json(&ph.project(&item, &paths));
        assert_eq!(
            got,
            json!({"a": {"S": "1"}, "status": {"S": "ok"}, "m": {"M": {"x": {"N": "1"}}}, "l": {"L": [{"S": "l0"}, {"S": "l2"}]}})
        );
        let overlap = parse_projection("m, m.x").unwrap();
        assert!(ph.check_projection(&overlap).unwrap_err().message.contains("Two document paths overlap"));
        assert!(parse_projection("name").unwrap_err().message.contains("reserved keyword: name"));
    }
}
