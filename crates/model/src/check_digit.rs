//! Check digits of 保険者番号, 医療機関コード and the My Number.

/// The 検証番号 of 保険者番号 (保険者番号等の設定要領) and of the 10-digit 医療機関コード:
/// from the last digit of `payload` leftwards multiply by 2, 1, 2, 1, …; add the products,
/// taking the two digits of a two-digit product separately; the check digit is 10 minus the
/// last digit of the sum, or 0 when that digit is 0 (the Luhn scheme).
///
/// `payload` must hold ASCII digits only; callers validate that first.
pub fn luhn_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let p = u32::from(d - b'0') * if i % 2 == 0 { 2 } else { 1 };
            p / 10 + p % 10
        })
        .sum();
    ((10 - sum % 10) % 10) as u8
}

/// The check digit of the 12-digit My Number (個人番号, 行政手続における特定の個人を識別
/// するための番号の利用等に関する法律施行令 第8条): with P(n) the n-th digit from the right
/// of the first 11 and Q(n) = n + 1 for n ≤ 6, n − 5 for n ≥ 7, r = Σ P(n)·Q(n) mod 11;
/// the check digit is 0 when r ≤ 1, else 11 − r.
///
/// `payload` must be 11 ASCII digits; callers validate that first.
pub fn my_number_check_digit(payload: &[u8]) -> u8 {
    let sum: u32 = payload
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let n = i as u32 + 1;
            let q = if n <= 6 { n + 1 } else { n - 5 };
            u32::from(d - b'0') * q
        })
        .sum();
    let r = sum % 11;
    if r <= 1 { 0 } else { (11 - r) as u8 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insurer_example_from_the_setting_rules() {
        // 33 (法別) 12 (千葉) 001 → 5, as in the published worked example.
        assert_eq!(luhn_check_digit(b"3312001"), 5);
    }

    #[test]
    fn public_funding_example() {
        assert_eq!(luhn_check_digit(b"5401602"), 7);
    }

    #[test]
    fn institution_code_example() {
        // A published 処方箋発行医療機関コード: 0110113719.
        assert_eq!(luhn_check_digit(b"011011371"), 9);
    }

    #[test]
    fn my_number_known_value() {
        // 12345678901 → r = Σ P(n)Q(n) mod 11; computed by hand: check digit 8.
        assert_eq!(my_number_check_digit(b"12345678901"), 8);
    }
}
