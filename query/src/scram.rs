//! SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: password verifiers for
//! `CREATE ROLE ... PASSWORD` and the server's side of the login exchange.
//!
//! A verifier is `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64 parts),
//! byte-compatible with PostgreSQL's `pg_authid.rolpassword`, so it can be copied between the
//! two. The password itself is never kept. Passwords are used as given (PostgreSQL applies
//! SASLprep first, which changes only passwords with unusual Unicode characters).
//!
//! The exchange ([`ServerExchange`]): client-first (`n,,n=<user>,r=<client nonce>`) →
//! server-first (`r=<client nonce + server nonce>,s=<salt>,i=<iterations>`) → client-final
//! (`c=biws,r=<nonce>,p=<proof>`) → server-final (`v=<server signature>`). Channel binding is
//! not offered (the `n`/`y` GS2 flags are accepted, `p` is refused).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

/// PostgreSQL's default `scram_iterations`.
pub const DEFAULT_ITERATIONS: u32 = 4096;

const PREFIX: &str = "SCRAM-SHA-256$";

/// A parsed verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verifier {
    pub iterations: u32,
    pub salt: Vec<u8>,
    pub stored_key: [u8; 32],
    pub server_key: [u8; 32],
}

fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `Hi(password, salt, i)`: PBKDF2-HMAC-SHA-256 with one output block.
fn salted_password(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut block = salt.to_vec();
    block.extend_from_slice(&1u32.to_be_bytes());
    let mut u = hmac(password.as_bytes(), &block);
    let mut out = u;
    for _ in 1..iterations {
        u = hmac(password.as_bytes(), &u);
        out.iter_mut().zip(u).for_each(|(o, x)| *o ^= x);
    }
    out
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).expect("the operating system's random source is available");
    buf
}

impl Verifier {
    /// A new verifier for `password` with a random 16-byte salt.
    pub fn new(password: &str) -> Verifier {
        Verifier::with_salt(password, &random_bytes::<16>(), DEFAULT_ITERATIONS)
    }

    /// A verifier no password matches (random keys), for logins as roles that do not exist.
    pub fn matching_nothing() -> Verifier {
        Verifier {
            iterations: DEFAULT_ITERATIONS,
            salt: random_bytes::<16>().to_vec(),
            stored_key: random_bytes::<32>(),
            server_key: random_bytes::<32>(),
        }
    }

    pub fn with_salt(password: &str, salt: &[u8], iterations: u32) -> Verifier {
        let salted = salted_password(password, salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        Verifier {
            iterations,
            salt: salt.to_vec(),
            stored_key: Sha256::digest(client_key).into(),
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Parses PostgreSQL's text form; `None` if `text` is not a SCRAM-SHA-256 verifier.
    pub fn parse(text: &str) -> Option<Verifier> {
        let rest = text.strip_prefix(PREFIX)?;
        let (params, keys) = rest.split_once('$')?;
        let (iterations, salt) = params.split_once(':')?;
        let (stored, server) = keys.split_once(':')?;
        Some(Verifier {
            iterations: iterations.parse().ok().filter(|i| *i > 0)?,
            salt: B64.decode(salt).ok()?,
            stored_key: B64.decode(stored).ok()?.try_into().ok()?,
            server_key: B64.decode(server).ok()?.try_into().ok()?,
        })
    }

    /// The stored text form.
    pub fn to_text(&self) -> String {
        format!(
            "{PREFIX}{}:{}${}:{}",
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(self.stored_key),
            B64.encode(self.server_key)
        )
    }
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    /// The client's messages do not follow the protocol (08P01).
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    /// The proof does not match the verifier: wrong password (28P01).
    #[error("password authentication failed")]
    WrongPassword,
}

/// The server's side of one SCRAM-SHA-256 login.
#[derive(Debug)]
pub struct ServerExchange {
    verifier: Verifier,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

/// The `key=value` attribute `key` of a SCRAM message.
fn attribute(message: &str, key: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(key) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

impl ServerExchange {
    /// Takes the client-first message; returns the exchange and the server-first message.
    /// For an unknown role pass a verifier made up from a random password: the exchange then
    /// fails at the proof, like a wrong password, without telling the client the role is
    /// missing.
    pub fn start(
        verifier: Verifier,
        client_first: &str,
    ) -> Result<(ServerExchange, String), ScramError> {
        let bare = match client_first.split_once(',') {
            Some(("n" | "y", rest)) => rest
                .split_once(',')
                .map(|(_authzid, bare)| bare)
                .ok_or(ScramError::Malformed("client-first message without a body"))?,
            Some((flag, _)) if flag.starts_with('p') => {
                return Err(ScramError::Malformed("channel binding is not supported"));
            }
            _ => return Err(ScramError::Malformed("bad GS2 header")),
        };
        let client_nonce = attribute(bare, 'r').ok_or(ScramError::Malformed(
            "client-first message without a nonce",
        ))?;
        if client_nonce.is_empty() || client_nonce.contains(',') {
            return Err(ScramError::Malformed("bad client nonce"));
        }
        let nonce = format!("{client_nonce}{}", B64.encode(random_bytes::<18>()));
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&verifier.salt),
            verifier.iterations
        );
        Ok((
            ServerExchange {
                verifier,
                client_first_bare: bare.to_string(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Checks the client-final message; returns the server-final message on success.
    pub fn finish(self, client_final: &str) -> Result<String, ScramError> {
        let (without_proof, proof) =
            client_final
                .rsplit_once(",p=")
                .ok_or(ScramError::Malformed(
                    "client-final message without a proof",
                ))?;
        if attribute(without_proof, 'r') != Some(self.nonce.as_str()) {
            return Err(ScramError::Malformed("nonce mismatch"));
        }
        match attribute(without_proof, 'c') {
            Some("biws" | "eSws") => {}
            _ => return Err(ScramError::Malformed("unexpected channel binding")),
        }
        let proof: [u8; 32] = B64
            .decode(proof)
            .ok()
            .and_then(|p| p.try_into().ok())
            .ok_or(ScramError::Malformed("bad proof"))?;
        let auth_message = format!(
            "{},{},{without_proof}",
            self.client_first_bare, self.server_first
        );
        let signature = hmac(&self.verifier.stored_key, auth_message.as_bytes());
        let mut client_key = proof;
        client_key
            .iter_mut()
            .zip(signature)
            .for_each(|(k, s)| *k ^= s);
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        // Compare without an early exit, so timing says nothing about the key.
        let differs = stored
            .iter()
            .zip(self.verifier.stored_key)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        if differs != 0 {
            return Err(ScramError::WrongPassword);
        }
        let server_signature = hmac(&self.verifier.server_key, auth_message.as_bytes());
        Ok(format!("v={}", B64.encode(server_signature)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A client's side, written from RFC 5802, to drive the server's.
    fn client_final(password: &str, client_first_bare: &str, server_first: &str) -> String {
        let salt = B64.decode(attribute(server_first, 's').unwrap()).unwrap();
        let iterations: u32 = attribute(server_first, 'i').unwrap().parse().unwrap();
        let nonce = attribute(server_first, 'r').unwrap();
        let salted = salted_password(password, &salt, iterations);
        let client_key = hmac(&salted, b"Client Key");
        let stored: [u8; 32] = Sha256::digest(client_key).into();
        let without_proof = format!("c=biws,r={nonce}");
        let auth = format!("{client_first_bare},{server_first},{without_proof}");
        let signature = hmac(&stored, auth.as_bytes());
        let mut proof = client_key;
        proof.iter_mut().zip(signature).for_each(|(p, s)| *p ^= s);
        format!("{without_proof},p={}", B64.encode(proof))
    }

    #[test]
    fn verifiers_are_postgres_compatible() {
        // PostgreSQL 15: CREATE ROLE r LOGIN PASSWORD 'secret';
        //                SELECT rolpassword FROM pg_authid WHERE rolname = 'r';
        let pg = "SCRAM-SHA-256$4096:NLXbddELXWM3LfT1e/rDaw==$uSMciRw9/mqmIRZbZb1eevyIweQzoGLV/hmPQYCh0oc=:yiWE29tj64MKiVA7b92g8dn9Tn7ucZr8d0am1lVpbbg=";
        let parsed = Verifier::parse(pg).unwrap();
        let ours = Verifier::with_salt("secret", &parsed.salt, parsed.iterations);
        assert_eq!(ours, parsed);
        assert_eq!(ours.to_text(), pg);
        let fresh = Verifier::new("secret");
        assert_eq!(Verifier::parse(&fresh.to_text()), Some(fresh));
        assert_eq!(Verifier::parse("md5abc"), None);
        assert_eq!(Verifier::parse("SCRAM-SHA-256$0:c2FsdA==$a:b"), None);
    }

    #[test]
    fn rfc7677_test_vector() {
        // RFC 7677 section 3: user "user", password "pencil".
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let verifier = Verifier::with_salt("pencil", &salt, 4096);
        let salted = salted_password("pencil", &salt, 4096);
        let client_key = hmac(&salted, b"Client Key");
        let bare = "n=user,r=rOprNGfwEbeRWgbNEkqO";
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let without_proof = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let auth = format!("{bare},{server_first},{without_proof}");
        let mut proof = client_key;
        let signature = hmac(&verifier.stored_key, auth.as_bytes());
        proof.iter_mut().zip(signature).for_each(|(p, s)| *p ^= s);
        assert_eq!(
            B64.encode(proof),
            "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        let server_signature = hmac(&verifier.server_key, auth.as_bytes());
        assert_eq!(
            B64.encode(server_signature),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
    }

    #[test]
    fn the_exchange_accepts_the_password_and_nothing_else() {
        let verifier = Verifier::new("correct horse");
        for (password, ok) in [
            ("correct horse", true),
            ("Correct horse", false),
            ("", false),
        ] {
            let first = "n,,n=,r=abcdefghijkl";
            let (exchange, server_first) = ServerExchange::start(verifier.clone(), first).unwrap();
            let last = client_final(password, "n=,r=abcdefghijkl", &server_first);
            assert_eq!(exchange.finish(&last).is_ok(), ok, "{password}");
        }
        let (exchange, _) = ServerExchange::start(verifier.clone(), "n,,n=,r=abc").unwrap();
        assert_eq!(
            exchange.finish("c=biws,r=other,p=AAAA"),
            Err(ScramError::Malformed("nonce mismatch"))
        );
        assert!(ServerExchange::start(verifier.clone(), "p=tls-server-end-point,,n=,r=x").is_err());
        assert!(ServerExchange::start(verifier, "garbage").is_err());
    }
}
