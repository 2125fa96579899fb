//! How a command line tool fails: a one-line reason and details, on stderr.

/// Why a command failed: a one-line reason, then any details.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub lines: Vec<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            lines: Vec::new(),
        }
    }

    pub fn details(mut self, lines: Vec<String>) -> Self {
        self.lines = lines;
        self
    }

    pub fn report(&self) {
        eprintln!("error: {}", self.message);
        for line in &self.lines {
            eprintln!("  {line}");
        }
    }
}
