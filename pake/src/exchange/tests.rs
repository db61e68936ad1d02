use proptest::prelude::*;
use rand::{rngs::StdRng, SeedableRng};

use super::*;
use crate::session_aad;

/// One set of RFC 9382 Appendix B test vectors (P256-SHA256-HKDF-HMAC-SHA256, AAD empty).
struct Vector {
    id_a: &'static str,
    id_b: &'static str,
    w: &'static str,
    x: &'static str,
    y: &'static str,
    p_a: &'static str,
    p_b: &'static str,
    k: &'static str,
    tt: &'static str,
    ke: &'static str,
    ka: &'static str,
    kc_a: &'static str,
    kc_b: &'static str,
    c_a: &'static str,
    c_b: &'static str,
}

/// RFC 9382 Appendix B, all four vectors.
const VECTORS: [Vector; 4] = [
    Vector {
        id_a: "server",
        id_b: "client",
        w: "2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
        x: "43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729",
        y: "dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be",
        p_a: "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c",
        p_b: "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b7",
        k: "0412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d3325",
        tt: "06000000000000007365727665720600000000000000636c69656e74410000000000000004a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3e42c9b4e6be662766e1eeb4116988ede5f912c41000000000000000406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa8ed6e4a1155cf8f1543ceca528afb591a1e0b741000000000000000412af7e89717850671913e6b469ace67bd90a4df8ce45c2af19010175e37eed69f75897996d539356e2fa6a406d528501f907e04d97515fbe83db277b715d332520000000000000002ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f",
        ke: "0e0672dc86f8e45565d338b0540abe69",
        ka: "15bdf72e2b35b5c9e5663168e960a91b",
        kc_a: "00c12546835755c86d8c0db7851ae86f",
        kc_b: "a9fa3406c3b781b93d804485430ca27a",
        c_a: "58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0",
        c_b: "d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b",
    },
    Vector {
        id_a: "",
        id_b: "client",
        w: "0548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
        x: "403abbe3b1b4b9ba17e3032849759d723939a27a27b9d921c500edde18ed654b",
        y: "903023b6598908936ea7c929bd761af6039577a9c3f9581064187c3049d87065",
        p_a: "04a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a",
        p_b: "04e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc",
        k: "048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa6",
        tt: "00000000000000000600000000000000636c69656e74410000000000000004a897b769e681c62ac1c2357319a3d363f610839c4477720d24cbe32f5fd85f44fb92ba966578c1b712be6962498834078262caa5b441ecfa9d4a9485720e918a410000000000000004e0f816fd1c35e22065d5556215c097e799390d16661c386e0ecc84593974a61b881a8c82327687d0501862970c64565560cb5671f696048050ca66ca5f8cc7fc4100000000000000048f83ec9f6e4f87cc6f9dc740bdc2769725f923364f01c84148c049a39a735ebda82eac03e00112fd6a5710682767cff5361f7e819e53d8d3c3a2922e0d837aa620000000000000000548d8729f730589e579b0475a582c1608138ddf7054b73b5381c7e883e2efae",
        ke: "642f05c473c2cd79909f9a841e2f30a7",
        ka: "0bf89b18180af97353ba198789c2b963",
        kc_a: "c6be376fc7cd1301fd0a13adf3e7bffd",
        kc_b: "b7243f4ae60440a49b3f8cab3c1fba07",
        c_a: "47d29e6666af1b7dd450d571233085d7a9866e4d49d2645e2df975489521232b",
        c_b: "3313c5cefc361d27fb16847a91c2a73b766ffa90a4839122a9b70a2f6bd1d6df",
    },
    Vector {
        id_a: "server",
        id_b: "",
        w: "626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
        x: "07adb3db6bc623d3399726bfdbfd3d15a58ea776ab8a308b00392621291f9633",
        y: "b6a4fc8dbb629d4ba51d6f91ed1532cf87adec98f25dd153a75accafafedec16",
        p_a: "04f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b0",
        p_b: "040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db",
        k: "0445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe",
        tt: "06000000000000007365727665720000000000000000410000000000000004f88fb71c99bfffaea370966b7eb99cd4be0ff1a7d335caac4211c4afd855e2e15a873b298503ad8ba1d9cbb9a392d2ba309b48bfd7879aefd0f2cea6009763b04100000000000000040c269d6be017dccb15182ac6bfcd9e2a14de019dd587eaf4bdfd353f031101e7cca177f8eb362a6e83e7d5e729c0732e1b528879c086f39ba0f31a9661bd34db41000000000000000445ee233b8ecb51ebd6e7da3f307e88a1616bae2166121221fdc0dadb986afaf3ec8a988dc9c626fa3b99f58a7ca7c9b844bb3e8dd9554aafc5b53813504c1cbe2000000000000000626e0cdc7b14c9db3e52a0b1b3a768c98e37852d5db30febe0497b14eae8c254",
        ke: "005184ff460da2ce59062c87733c299c",
        ka: "3521297d736598fc0a1127600efa1afb",
        kc_a: "f3da53604f0aeecea5a33be7bddf6edf",
        kc_b: "9e3f86848736f159bd92b6e107ec6799",
        c_a: "bc9f9bbe99f26d0b2260e6456e05a86196a3307ec6663a18bf6ac825736533b2",
        c_b: "c2370e1bf813b086dff0d834e74425a06e6390f48f5411900276dcccc5a297ec",
    },
    Vector {
        id_a: "",
        id_b: "",
        w: "7bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
        x: "8cef65df64bb2d0f83540c53632de911b5b24b3eab6cc74a97609fd659e95473",
        y: "d7a66f64074a84652d8d623a92e20c9675c61cb5b4f6a0063e4648a2fdc02d53",
        p_a: "04a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66",
        p_b: "04589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d",
        k: "041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e135543772",
        tt: "00000000000000000000000000000000410000000000000004a65b367a3f613cf9f0654b1b28a1e3a8a40387956c8ba6063e8658563890f46ca1ef6a676598889fc28de2950ab8120b79a5ef1ea4c9f44bc98f585634b46d66410000000000000004589f13218822710d98d8b2123a079041052d9941b9cf88c6617ddb2fcc0494662eea8ba6b64692dc318250030c6af045cb738bc81ba35b043c3dcb46adf6f58d4100000000000000041a3c03d51b452537ca2a1fea6110353c6d5ed483c4f0f86f4492ca3f378d40a994b4477f93c64d928edbbcd3e85a7c709b7ea73ee97986ce3d1438e13554377220000000000000007bf46c454b4c1b25799527d896508afd5fc62ef4ec59db1efb49113063d70cca",
        ke: "fc6374762ba5cf11f4b2caa08b2cd1b9",
        ka: "907ae0e26e8d6234318d91583cd74c86",
        kc_a: "5dbd2f477166b7fb6d61febbd77a5563",
        kc_b: "7689b4654407a5faeffdc8f18359d8a3",
        c_a: "dfb4db8d48ae5a675963ea5e6c19d98d4ea028d8e898dad96ea19a80ade95dca",
        c_b: "d0f0609d1613138d354f7e95f19fb556bf52d751947241e8c7118df5ef0ae175",
    },
];

/// An RNG that hands out fixed bytes: `start` reads the scalar as 32 big-endian bytes from it.
struct FixedRng(Vec<u8>);

impl rand_core::RngCore for FixedRng {
    fn next_u32(&mut self) -> u32 {
        rand_core::impls::next_u32_via_fill(self)
    }
    fn next_u64(&mut self) -> u64 {
        rand_core::impls::next_u64_via_fill(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        assert!(dest.len() <= self.0.len(), "FixedRng ran out of bytes");
        let rest = self.0.split_off(dest.len());
        dest.copy_from_slice(&self.0);
        self.0 = rest;
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill_bytes(dest);
        Ok(())
    }
}

impl rand_core::CryptoRng for FixedRng {}

fn bytes(text: &str) -> Vec<u8> {
    hex::decode(text).unwrap()
}

fn scalar(text: &str) -> Scalar {
    let bytes: [u8; 32] = bytes(text).try_into().unwrap();
    Option::from(Scalar::from_repr(bytes.into())).unwrap()
}

fn w_of(text: &str) -> PasswordScalar {
    PasswordScalar::from_bytes(&bytes(text).try_into().unwrap()).unwrap()
}

fn start(role: Role, w: &PasswordScalar, aad: &[u8], seed: u64) -> (Spake2, [u8; SHARE_LEN]) {
    Spake2::start(
        role,
        w,
        b"agent",
        b"expert",
        aad,
        &mut StdRng::seed_from_u64(seed),
    )
    .unwrap()
}

#[test]
fn m_and_n_are_the_points_of_rfc_9382() {
    for (point, sec1) in [(*M, M_SEC1), (*N, N_SEC1)] {
        assert_eq!(point.to_affine().to_encoded_point(true).as_bytes(), sec1);
    }
}

#[test]
fn rfc_9382_test_vectors() {
    for v in &VECTORS {
        let name = format!("A={:?} B={:?}", v.id_a, v.id_b);
        let w = w_of(v.w);
        let (id_a, id_b) = (v.id_a.as_bytes(), v.id_b.as_bytes());

        let (a, p_a) =
            Spake2::start(Role::Agent, &w, id_a, id_b, b"", &mut FixedRng(bytes(v.x))).unwrap();
        let (b, p_b) =
            Spake2::start(Role::Expert, &w, id_a, id_b, b"", &mut FixedRng(bytes(v.y))).unwrap();
        assert_eq!(hex::encode(p_a), v.p_a, "pA, {name}");
        assert_eq!(hex::encode(p_b), v.p_b, "pB, {name}");

        let peer_b = decode(&p_b).unwrap();
        let peer_a = decode(&p_a).unwrap();
        let k_a = shared_element(Role::Agent, &scalar(v.x), &w, &peer_b).unwrap();
        let k_b = shared_element(Role::Expert, &scalar(v.y), &w, &peer_a).unwrap();
        assert_eq!(hex::encode(k_a), v.k, "K of A, {name}");
        assert_eq!(hex::encode(k_b), v.k, "K of B, {name}");

        let tt = transcript(id_a, id_b, &p_a, &p_b, &k_a, &w.to_bytes());
        assert_eq!(hex::encode(tt.as_slice()), v.tt, "TT, {name}");
        let keys = KeySchedule::derive(&tt, b"");
        assert_eq!(hex::encode(*keys.ke), v.ke, "Ke, {name}");
        assert_eq!(hex::encode(*keys.ka), v.ka, "Ka, {name}");
        assert_eq!(hex::encode(*keys.kc_a), v.kc_a, "KcA, {name}");
        assert_eq!(hex::encode(*keys.kc_b), v.kc_b, "KcB, {name}");

        let (a, c_a) = a.finish(&p_b).unwrap();
        let (b, c_b) = b.finish(&p_a).unwrap();
        assert_eq!(hex::encode(c_a), v.c_a, "cA, {name}");
        assert_eq!(hex::encode(c_b), v.c_b, "cB, {name}");
        assert_eq!(
            hex::encode(a.verify(&c_b).unwrap().as_bytes()),
            v.ke,
            "{name}"
        );
        assert_eq!(
            hex::encode(b.verify(&c_a).unwrap().as_bytes()),
            v.ke,
            "{name}"
        );
    }
}

/// Runs one exchange to its end and returns the two sides' keys, or why each refused.
fn exchange(
    agent_w: &PasswordScalar,
    agent_aad: &[u8],
    expert_w: &PasswordScalar,
    expert_aad: &[u8],
    seed: u64,
) -> (Result<SessionKey, PakeError>, Result<SessionKey, PakeError>) {
    let (agent, share_a) = start(Role::Agent, agent_w, agent_aad, seed);
    let (expert, share_b) = start(Role::Expert, expert_w, expert_aad, seed + 1);
    let (agent, confirm_a) = agent.finish(&share_b).unwrap();
    let (expert, confirm_b) = expert.finish(&share_a).unwrap();
    (agent.verify(&confirm_b), expert.verify(&confirm_a))
}

#[test]
fn both_roles_agree_on_the_key() {
    let w = PasswordScalar::derive("invitation", "correct horse");
    let aad = session_aad("session", "sha-256 aa:bb", "sha-256 cc:dd");
    let (agent, expert) = exchange(&w, &aad, &w, &aad, 1);
    let (agent, expert) = (agent.unwrap(), expert.unwrap());
    assert_eq!(agent.as_bytes(), expert.as_bytes());

    // Another exchange with the same password: fresh scalars, another key.
    let (again, _) = exchange(&w, &aad, &w, &aad, 3);
    assert_ne!(again.unwrap().as_bytes(), agent.as_bytes());
}

#[test]
fn a_wrong_password_fails_confirmation_on_both_sides() {
    let right = PasswordScalar::derive("invitation", "correct horse");
    let wrong = PasswordScalar::derive("invitation", "correct horse ");
    let aad = session_aad("session", "sha-256 aa", "sha-256 bb");
    let (agent, expert) = exchange(&right, &aad, &wrong, &aad, 7);
    assert_eq!(agent.err(), Some(PakeError::ConfirmationMismatch));
    assert_eq!(expert.err(), Some(PakeError::ConfirmationMismatch));
}

#[test]
fn another_invitation_is_another_password() {
    let agent_w = PasswordScalar::derive("invitation 1", "correct horse");
    let expert_w = PasswordScalar::derive("invitation 2", "correct horse");
    let (agent, expert) = exchange(&agent_w, b"", &expert_w, b"", 7);
    assert_eq!(agent.err(), Some(PakeError::ConfirmationMismatch));
    assert_eq!(expert.err(), Some(PakeError::ConfirmationMismatch));
}

#[test]
fn a_relay_in_the_middle_fails_confirmation_despite_the_right_password() {
    // A relay terminating DTLS shows each side a certificate of its own.
    let w = PasswordScalar::derive("invitation", "correct horse");
    let agent_aad = session_aad("session", "sha-256 aa", "sha-256 relay");
    let expert_aad = session_aad("session", "sha-256 aa", "sha-256 bb");
    let (agent, expert) = exchange(&w, &agent_aad, &w, &expert_aad, 7);
    assert_eq!(agent.err(), Some(PakeError::ConfirmationMismatch));
    assert_eq!(expert.err(), Some(PakeError::ConfirmationMismatch));

    let (agent, expert) = exchange(
        &w,
        &session_aad("other session", "a", "b"),
        &w,
        &session_aad("session", "a", "b"),
        7,
    );
    assert!(agent.is_err() && expert.is_err());
}

#[test]
fn two_agents_do_not_confirm_each_other() {
    let w = PasswordScalar::derive("invitation", "pw");
    let (one, share_one) = start(Role::Agent, &w, b"", 1);
    let (two, share_two) = start(Role::Agent, &w, b"", 2);
    let (one, confirm_one) = one.finish(&share_two).unwrap();
    let (two, confirm_two) = two.finish(&share_one).unwrap();
    assert!(one.verify(&confirm_two).is_err());
    assert!(two.verify(&confirm_one).is_err());
}

#[test]
fn malformed_shares_are_refused() {
    let w = PasswordScalar::derive("invitation", "pw");
    let (_, good) = start(Role::Expert, &w, b"", 1);
    let finish = |share: &[u8]| start(Role::Agent, &w, b"", 2).0.finish(share).err();

    assert_eq!(finish(&[]), Some(PakeError::ShareLength { got: 0 }));
    assert_eq!(
        finish(&good[..64]),
        Some(PakeError::ShareLength { got: 64 })
    );
    assert_eq!(
        finish(&[&good[..], &[0]].concat()),
        Some(PakeError::ShareLength { got: 66 })
    );
    // The identity's SEC1 encoding, and the compressed form of a good point.
    assert_eq!(finish(&[0]), Some(PakeError::ShareLength { got: 1 }));
    let compressed = decode(&good).unwrap().to_affine().to_encoded_point(true);
    assert_eq!(
        finish(compressed.as_bytes()),
        Some(PakeError::ShareLength { got: 33 })
    );
    let mut tagged = good;
    tagged[0] = 0x02;
    assert_eq!(finish(&tagged), Some(PakeError::ShareEncoding));
    tagged[0] = 0x00;
    assert_eq!(finish(&tagged), Some(PakeError::ShareEncoding));

    // Not on the curve: (0, 0), and a good point with y changed.
    let mut zeros = [0u8; SHARE_LEN];
    zeros[0] = 0x04;
    assert_eq!(finish(&zeros), Some(PakeError::InvalidShare));
    let mut off_curve = good;
    off_curve[64] ^= 1;
    assert_eq!(finish(&off_curve), Some(PakeError::InvalidShare));
    // Coordinates not below the field prime.
    let mut too_big = [0xffu8; SHARE_LEN];
    too_big[0] = 0x04;
    assert_eq!(finish(&too_big), Some(PakeError::InvalidShare));

    // w*N is a point, but pB - w*N is the identity: no key can come of it.
    let w_n = encode(&(*N * w.scalar())).unwrap();
    assert_eq!(finish(&w_n), Some(PakeError::InvalidShare));
}

#[test]
fn malformed_confirmations_are_refused() {
    let w = PasswordScalar::derive("invitation", "pw");
    let (_, share_b) = start(Role::Expert, &w, b"", 2);
    let confirm = || agent_confirming(&w, &share_b);
    assert_eq!(
        confirm().verify(&[]).err(),
        Some(PakeError::ConfirmationLength { got: 0 })
    );
    assert_eq!(
        confirm().verify(&[0; 33]).err(),
        Some(PakeError::ConfirmationLength { got: 33 })
    );
    assert_eq!(
        confirm().verify(&[0; 32]).err(),
        Some(PakeError::ConfirmationMismatch)
    );
}

fn agent_confirming(w: &PasswordScalar, share_b: &[u8]) -> Confirming {
    start(Role::Agent, w, b"", 1).0.finish(share_b).unwrap().0
}

#[test]
fn associated_data_is_bounded_as_rfc_9382_says() {
    let w = PasswordScalar::derive("invitation", "pw");
    let mut rng = StdRng::seed_from_u64(1);
    let longest = vec![0u8; MAX_AAD_LEN];
    assert!(Spake2::start(Role::Agent, &w, b"", b"", &longest, &mut rng).is_ok());
    let too_long = vec![0u8; MAX_AAD_LEN + 1];
    assert_eq!(
        Spake2::start(Role::Agent, &w, b"", b"", &too_long, &mut rng).err(),
        Some(PakeError::AadTooLong {
            len: MAX_AAD_LEN + 1
        })
    );
}

#[test]
fn scalars_out_of_range_are_drawn_again() {
    // First 32 bytes: the group order itself (not below it), then zero, then x of vector 1.
    let order = bytes("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
    let v = &VECTORS[0];
    let mut rng = FixedRng([order, vec![0; 32], bytes(v.x)].concat());
    let w = w_of(v.w);
    let (_, p_a) = Spake2::start(
        Role::Agent,
        &w,
        v.id_a.as_bytes(),
        v.id_b.as_bytes(),
        b"",
        &mut rng,
    )
    .unwrap();
    assert_eq!(hex::encode(p_a), v.p_a);
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let w = PasswordScalar::derive("invitation", "pw");
    let (agent, share_a) = start(Role::Agent, &w, b"", 1);
    let (expert, share_b) = start(Role::Expert, &w, b"", 2);
    assert_eq!(format!("{agent:?}"), "Spake2 { role: Agent, .. }");
    let (agent, _) = agent.finish(&share_b).unwrap();
    let (_, confirm_b) = expert.finish(&share_a).unwrap();
    assert_eq!(format!("{agent:?}"), "Confirming(..)");
    assert_eq!(
        format!("{:?}", agent.verify(&confirm_b).unwrap()),
        "SessionKey(..)"
    );
}

proptest! {
    /// Whatever a peer sends as its share, `finish` answers with a result and never panics.
    #[test]
    fn any_bytes_as_a_share_never_panic(share in proptest::collection::vec(any::<u8>(), 0..140)) {
        let w = PasswordScalar::derive("invitation", "pw");
        for role in [Role::Agent, Role::Expert] {
            let _ = start(role, &w, b"", 1).0.finish(&share);
        }
    }

    /// Shares of the right length and tag, any coordinates: mostly off the curve, never a panic.
    #[test]
    fn any_coordinates_as_a_share_never_panic(coordinates in proptest::array::uniform32(any::<u8>()), y in proptest::array::uniform32(any::<u8>())) {
        let share = [&[0x04][..], &coordinates, &y].concat();
        let w = PasswordScalar::derive("invitation", "pw");
        let _ = start(Role::Expert, &w, b"", 1).0.finish(&share);
    }

    /// Whatever a peer sends as its confirmation, `verify` refuses all but the right one.
    #[test]
    fn any_bytes_as_a_confirmation_are_refused(confirmation in proptest::collection::vec(any::<u8>(), 0..70)) {
        let w = PasswordScalar::derive("invitation", "pw");
        let (_, share_b) = start(Role::Expert, &w, b"", 2);
        prop_assert!(agent_confirming(&w, &share_b).verify(&confirmation).is_err());
    }
}
