//! Cheap string building: numbers without `format!`, addresses and 郵便番号.

use onshi_model::Prefecture;

use crate::places::{Municipality, TOWNS};
use crate::rng::Rng;

/// Appends the decimal digits of `n`.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.push_str(std::str::from_utf8(&buf[i..]).expect("ascii digits"));
}

/// Appends `n` zero-padded to `width` digits.
pub fn push_padded(out: &mut String, n: u64, width: usize) {
    let mut digits = 1;
    let mut m = n / 10;
    while m > 0 {
        digits += 1;
        m /= 10;
    }
    for _ in digits..width {
        out.push('0');
    }
    push_u64(out, n);
}

/// `n` zero-padded to `width` digits.
pub fn padded(n: u64, width: usize) -> String {
    let mut s = String::with_capacity(width);
    push_padded(&mut s, n, width);
    s
}

/// A street address in `municipality`: 都道府県 + 市区町村 + 町名 + 丁目-番-号, and a
/// 郵便番号 `123-4567` that starts with the municipality's real first three digits and whose
/// last four digits follow from the town and 丁目. Returns the address, the 郵便番号 and
/// the town name.
pub fn address(
    rng: &mut Rng,
    prefecture: Prefecture,
    m: &Municipality,
) -> (String, String, &'static str) {
    let town = rng.below(TOWNS.len() as u64);
    let chome = rng.range(1, 6);
    let ban = rng.range(1, 30);
    let go = rng.range(1, 25);
    let mut a = String::with_capacity(72);
    a.push_str(prefecture.name());
    a.push_str(m.city);
    a.push_str(m.ward);
    a.push_str(TOWNS[town as usize]);
    push_u64(&mut a, chome);
    a.push_str("丁目");
    push_u64(&mut a, ban);
    a.push('番');
    push_u64(&mut a, go);
    a.push('号');
    let mut post = String::with_capacity(8);
    push_padded(&mut post, u64::from(m.post3), 3);
    post.push('-');
    // The last four digits: a town block and the 丁目, as real codes are laid out.
    let low = (u64::from(m.post3) * 37 + town * 211 + 13) % 90 * 100 + 1000 + chome * 11;
    push_padded(&mut post, low, 4);
    (a, post, TOWNS[town as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits() {
        let mut s = String::new();
        push_u64(&mut s, 0);
        push_u64(&mut s, 1_234_567_890_123);
        assert_eq!(s, "01234567890123");
        assert_eq!(padded(42, 5), "00042");
        assert_eq!(padded(123_456, 3), "123456");
    }
}
