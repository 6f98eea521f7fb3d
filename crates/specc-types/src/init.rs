use core::fmt;

/// How a weight tensor is initialised (biases and batchnorm `beta` start at
/// zero; batchnorm `gamma` and the running variance at one). The definitions
/// are Keras's; `specc_train::init::fill` draws them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// N(0, 2 / fan_in), truncated at two standard deviations as Keras does.
    HeNormal,
    /// U(-sqrt(6 / fan_in), sqrt(6 / fan_in))
    HeUniform,
    /// N(0, 2 / (fan_in + fan_out)), truncated at two standard deviations.
    XavierNormal,
    /// U(-sqrt(6 / (fan_in + fan_out)), +sqrt(...)), Keras' `glorot_uniform`.
    XavierUniform,
    Zeros,
    Normal {
        std: f64,
    },
    Uniform {
        limit: f64,
    },
}

impl Init {
    /// The initialiser's name in the spec language.
    pub fn name(&self) -> &'static str {
        match self {
            Init::HeNormal => "he_normal",
            Init::HeUniform => "he_uniform",
            Init::XavierNormal => "xavier_normal",
            Init::XavierUniform => "xavier_uniform",
            Init::Zeros => "zeros",
            Init::Normal { .. } => "normal",
            Init::Uniform { .. } => "uniform",
        }
    }
}

/// As written in a spec: `he_normal`, `normal(std = 0.05)`.
impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Init::Normal { std } => write!(f, "normal(std = {std})"),
            Init::Uniform { limit } => write!(f, "uniform(limit = {limit})"),
            other => f.write_str(other.name()),
        }
    }
}
