//! DynamoDB's Number: a decimal of up to 38 significant digits with a magnitude from
//! 1E-130 to 9.9999999999999999999999999999999999999E+125, kept and compared exactly (never
//! through `f64`, which would merge distinct integers above 2^53).

use std::cmp::Ordering;
use std::fmt;

/// Most significant digits a Number can carry.
pub const MAX_DIGITS: usize = 38;
/// The largest power of ten of a Number's leading digit.
const MAX_ADJUSTED_EXPONENT: i64 = 125;
/// The smallest power of ten of a Number's leading digit.
const MIN_ADJUSTED_EXPONENT: i64 = -130;

/// A decimal number: `digits` × 10^`exponent`, with no leading or trailing zeros in
/// `digits` (so each value has exactly one representation, and derived equality is
/// numeric equality). Zero has no digits and is never negative.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    negative: bool,
    digits: Vec<u8>,
    exponent: i32,
}

/// Why a string is not a DynamoDB Number; `message` is DynamoDB's wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberError {
    NotANumber,
    TooPrecise,
    Overflow,
    Underflow,
}

impl NumberError {
    pub fn message(self) -> &'static str {
        match self {
            Self::NotANumber => "The parameter cannot be converted to a numeric value",
            Self::TooPrecise => "Attempting to store more than 38 significant digits in a Number",
            Self::Overflow => {
                "Number overflow. Attempting to store a number with magnitude larger than supported range"
            }
            Self::Underflow => {
                "Number underflow. Attempting to store a number with magnitude smaller than supported range"
            }
        }
    }
}

impl Number {
    pub fn zero() -> Self {
        Self { negative: false, digits: Vec::new(), exponent: 0 }
    }

    pub fn from_u64(n: u64) -> Self {
        let mut digits: Vec<u8> = n.to_string().bytes().map(|b| b - b'0').collect();
        let mut exponent = 0;
        while digits.last() == Some(&0) {
            digits.pop();
            exponent += 1;
        }
        if digits.is_empty() { Self::zero() } else { Self { negative: false, digits, exponent } }
    }

    /// Parses DynamoDB's number syntax: an optional sign, digits with an optional decimal
    /// point, and an optional exponent (`-12.5e3`, `.5`, `7.`).
    pub fn parse(text: &str) -> Result<Self, NumberError> {
        let bytes = text.as_bytes();
        let mut i = 0;
        let negative = match bytes.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let mut mantissa = Vec::new();
        let mut fraction_digits: i64 = 0;
        let mut seen_point = false;
        while let Some(&b) = bytes.get(i) {
            match b {
                b'0'..=b'9' => {
                    mantissa.push(b - b'0');
                    if seen_point {
                        fraction_digits += 1;
                    }
                }
                b'.' if !seen_point => seen_point = true,
                _ => break,
            }
            i += 1;
        }
        if mantissa.is_empty() {
            return Err(NumberError::NotANumber);
        }
        let mut exponent: i64 = 0;
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exp_negative = match bytes.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while let Some(b @ b'0'..=b'9') = bytes.get(i) {
                // Saturates: anything this large is out of range anyway.
                exponent = exponent.saturating_mul(10).saturating_add(i64::from(b - b'0'));
                i += 1;
            }
            if i == start {
                return Err(NumberError::NotANumber);
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != bytes.len() {
            return Err(NumberError::NotANumber);
        }
        Self::from_parts(negative, mantissa, exponent.saturating_sub(fraction_digits))
    }

    /// Normalizes `mantissa` × 10^`exponent` and checks DynamoDB's limits.
    fn from_parts(negative: bool, mantissa: Vec<u8>, mut exponent: i64) -> Result<Self, NumberError> {
        let leading = mantissa.iter().take_while(|d| **d == 0).count();
        let mut digits = mantissa[leading..].to_vec();
        while digits.last() == Some(&0) {
            digits.pop();
            exponent = exponent.saturating_add(1);
        }
        if digits.is_empty() {
            return Ok(Self::zero());
        }
        if digits.len() > MAX_DIGITS {
            return Err(NumberError::TooPrecise);
        }
        let adjusted = exponent.saturating_add(digits.len() as i64 - 1);
        if adjusted > MAX_ADJUSTED_EXPONENT {
            return Err(NumberError::Overflow);
        }
        if adjusted < MIN_ADJUSTED_EXPONENT {
            return Err(NumberError::Underflow);
        }
        let exponent = i32::try_from(exponent).map_err(|_| NumberError::Overflow)?;
        Ok(Self { negative, digits, exponent })
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Significant digits, as DynamoDB counts them for an item's size.
    pub fn significant_digits(&self) -> usize {
        self.digits.len()
    }

    /// The power of ten of the leading digit.
    fn adjusted(&self) -> i64 {
        i64::from(self.exponent) + self.digits.len() as i64 - 1
    }

    fn cmp_magnitude(&self, other: &Self) -> Ordering {
        match (self.is_zero(), other.is_zero()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
            // Same leading power: digit strings without trailing zeros compare as decimals.
            (false, false) => self.adjusted().cmp(&other.adjusted()).then_with(|| self.digits.cmp(&other.digits)),
        }
    }

    /// The value as an `i64`, when it is an integer in range.
    pub fn to_i64(&self) -> Option<i64> {
        if self.exponent < 0 || self.adjusted() > 18 {
            return None;
        }
        self.to_string().parse().ok()
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Self) -> Ordering {
        let sign = |n: &Self| {
            if n.is_zero() {
                0
            } else if n.negative {
                -1
            } else {
                1
            }
        };
        match sign(self).cmp(&sign(other)) {
            Ordering::Equal if self.negative => other.cmp_magnitude(self),
            Ordering::Equal => self.cmp_magnitude(other),
            unequal => unequal,
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The canonical form DynamoDB answers with: plain notation, no superfluous zeros
/// (`1.50e1` is `15`, `-0.0` is `0`).
impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_zero() {
            return f.write_str("0");
        }
        let digits: String = self.digits.iter().map(|d| char::from(b'0' + d)).collect();
        let sign = if self.negative { "-" } else { "" };
        if self.exponent >= 0 {
            let zeros = "0".repeat(self.exponent.unsigned_abs() as usize);
            return write!(f, "{sign}{digits}{zeros}");
        }
        let point = digits.len() as i64 + i64::from(self.exponent);
        if point > 0 {
            let (int, frac) = digits.split_at(point as usize);
            write!(f, "{sign}{int}.{frac}")
        } else {
            let zeros = "0".repeat(point.unsigned_abs() as usize);
            write!(f, "{sign}0.{zeros}{digits}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn parsing_normalizes_to_one_representation() {
        assert_eq!(n("1.50e1").to_string(), "15");
        assert_eq!(n("-0.0").to_string(), "0");
        assert_eq!(n("+007").to_string(), "7");
        assert_eq!(n(".5").to_string(), "0.5");
        assert_eq!(n("7.").to_string(), "7");
        assert_eq!(n("-12.340").to_string(), "-12.34");
        assert_eq!(n("1e-3").to_string(), "0.001");
        assert_eq!(n("1E2").to_string(), "100");
        assert_eq!(n("1"), n("1.000"));
    }

    #[test]
    fn malformed_numbers_are_refused_with_dynamodb_wording() {
        for bad in ["", "-", "abc", "1.2.3", "1e", "1e+", "0x10", " 1", "1 ", "NaN", "Infinity", "--1", "1,5"] {
            assert_eq!(Number::parse(bad), Err(NumberError::NotANumber), "{bad:?}");
        }
        assert_eq!(Number::parse(&"1".repeat(39)), Err(NumberError::TooPrecise));
        assert!(Number::parse(&"1".repeat(38)).is_ok());
        assert!(Number::parse(&format!("{}000", "1".repeat(38))).is_ok(), "trailing zeros are not significant");
        assert_eq!(Number::parse("1e126"), Err(NumberError::Overflow));
        assert!(Number::parse("9.9999999999999999999999999999999999999E+125").is_ok());
        assert_eq!(Number::parse("1e-131"), Err(NumberError::Underflow));
        assert!(Number::parse("1e-130").is_ok());
        assert_eq!(Number::parse("1e99999999999999999999"), Err(NumberError::Overflow));
    }

    #[test]
    fn comparison_is_exact_for_38_digit_integers() {
        let a = n("99999999999999999999999999999999999998");
        let b = n("99999999999999999999999999999999999999");
        assert!(a < b);
        assert_ne!(a, b);
        // f64 would call these equal.
        assert!(n("9007199254740993") > n("9007199254740992"));
    }

    #[test]
    fn ordering_is_numeric_across_signs_and_scales() {
        let mut v: Vec<Number> =
            ["10", "-1", "2", "0", "-10.5", "1e1", "0.01", "-0.001", "100"].iter().map(|s| n(s)).collect();
        v.sort();
        let shown: Vec<String> = v.iter().map(Number::to_string).collect();
        assert_eq!(shown, ["-10.5", "-1", "-0.001", "0", "0.01", "2", "10", "10", "100"]);
    }

    #[test]
    fn integers_convert_when_in_range() {
        assert_eq!(n("1700000000").to_i64(), Some(1_700_000_000));
        assert_eq!(n("-5e2").to_i64(), Some(-500));
        assert_eq!(n("1.5").to_i64(), None);
        assert_eq!(Number::from_u64(1200).to_string(), "1200");
        assert_eq!(Number::from_u64(0), Number::zero());
    }
}
