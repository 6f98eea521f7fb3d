use alloc::string::String;
use alloc::vec::Vec;

/// A model's type name to the name of its generated module: `MnistCnn` to
/// `mnist_cnn`, `TfCNN` to `tf_cnn`, `HTTPServer2` to `http_server2`.
///
/// Spec identifiers are ASCII (the grammar's `ident`); other characters are
/// copied as they are.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len() + 4);
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = i.checked_sub(1).map(|p| chars[p]);
            let prev_lower = prev.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit());
            let prev_upper = prev.is_some_and(|p| p.is_ascii_uppercase());
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_ascii_lowercase());
            if prev.is_some() && !out.ends_with('_') && (prev_lower || (prev_upper && next_lower)) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::snake_case;

    #[test]
    fn snake_case_of_type_names() {
        assert_eq!(snake_case("MnistCnn"), "mnist_cnn");
        assert_eq!(snake_case("TfCnn"), "tf_cnn");
        assert_eq!(snake_case("TfCNN2"), "tf_cnn2");
        assert_eq!(snake_case("SmallResNet"), "small_res_net");
        assert_eq!(snake_case("MLP"), "mlp");
        assert_eq!(snake_case("Mlp"), "mlp");
        assert_eq!(snake_case("HTTPServer2"), "http_server2");
        assert_eq!(snake_case("Mlp784"), "mlp784");
        assert_eq!(snake_case("Already_Snake"), "already_snake");
    }
}
