//! What a request is, as the store compares it: an HMAC-SHA-256, under the
//! deployment's secret, of the method, the path and the body as parsed (JSON
//! canonical, a form's pairs sorted), with every field whose name holds
//! `password` left out. A copy of the table then says nothing about a
//! password, and without the secret nothing about the rest of the body.

use sha2::{Digest, Sha256};

/// HMAC-SHA-256 (RFC 2104) of `message` under `key`.
pub(super) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let inner = Sha256::new()
        .chain_update(block.map(|b| b ^ 0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(block.map(|b| b ^ 0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// A field that holds a secret, left out of the fingerprint: a retry that
/// changes only the password replays the first answer, which is harmless
/// (the account has the first password), while the table never holds
/// anything derived from one.
fn is_secret(name: &str) -> bool {
    name.to_ascii_lowercase().contains("password")
}

fn drop_secrets(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|name, _| !is_secret(name));
            map.values_mut().for_each(drop_secrets);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(drop_secrets),
        _ => {}
    }
}

/// The fingerprint of a request: the same body sent twice matches whatever
/// its spacing or order. A body that does not parse is taken as its bytes
/// (the route refuses it, and a refusal is never kept).
pub(super) fn fingerprint(
    secret: &[u8],
    method: &str,
    path: &str,
    content_type: &str,
    body: &[u8],
) -> Vec<u8> {
    let parsed = if content_type.contains("json") {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(mut value) => {
                drop_secrets(&mut value);
                value.to_string().into_bytes()
            }
            Err(_) => body.to_vec(),
        }
    } else {
        let mut pairs: Vec<(String, String)> = form_urlencoded::parse(body)
            .into_owned()
            .filter(|(name, _)| !is_secret(name))
            .collect();
        pairs.sort();
        serde_json::to_vec(&pairs).unwrap_or_default()
    };
    let mut message = Vec::with_capacity(parsed.len() + path.len() + 32);
    for part in [method.as_bytes(), path.as_bytes(), &parsed] {
        message.extend_from_slice(&(part.len() as u64).to_le_bytes());
        message.extend_from_slice(part);
    }
    hmac_sha256(secret, &message).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"a secret of the deployment, 32+ bytes";

    fn print(content_type: &str, body: &[u8]) -> Vec<u8> {
        fingerprint(SECRET, "POST", "/p", content_type, body)
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test cases 1 and 6 (a key longer than the block).
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn the_same_body_matches_whatever_its_layout() {
        assert_eq!(
            print("application/json", br#"{"a":1,"b":2}"#),
            print("application/json", br#"{ "b": 2, "a": 1 }"#)
        );
        let form = "application/x-www-form-urlencoded";
        assert_eq!(print(form, b"a=1&b=2"), print(form, b"b=2&a=1"));
    }

    #[test]
    fn another_body_path_method_or_secret_differs() {
        let base = print("application/json", br#"{"a":1}"#);
        assert_ne!(base, print("application/json", br#"{"a":2}"#));
        let json = "application/json";
        assert_ne!(base, fingerprint(SECRET, "POST", "/q", json, br#"{"a":1}"#));
        assert_ne!(base, fingerprint(SECRET, "PUT", "/p", json, br#"{"a":1}"#));
        assert_ne!(
            base,
            fingerprint(b"another", "POST", "/p", json, br#"{"a":1}"#)
        );
    }

    #[test]
    fn passwords_are_left_out() {
        let json = "application/json";
        assert_eq!(
            print(json, br#"{"username":"ann","password":"one"}"#),
            print(
                json,
                br#"{"username":"ann","password":"two","Old_Password":"x"}"#
            )
        );
        assert_eq!(
            print(json, br#"{"username":"ann"}"#),
            print(json, br#"{"username":"ann","password":"one"}"#)
        );
        let form = "application/x-www-form-urlencoded";
        assert_eq!(
            print(form, b"username=ann&password=one"),
            print(form, b"username=ann&password=two")
        );
        assert_ne!(
            print(json, br#"{"username":"ann","password":"one"}"#),
            print(json, br#"{"username":"bob","password":"one"}"#)
        );
    }
}
