//! LRP Toolbox plain text → a list of blocks in the toolbox's own (NHWC, `[in, out]`) layout, with line numbers.
//!
//! Only the syntax is checked here (keywords, integer headers, number counts, finite numbers); shapes are
//! checked by `shape.rs`. Every count is checked against the tokens actually present before anything is
//! allocated, so a header such as `Linear 100000 100000` cannot make us reserve memory for it.

/// One layer description as written in the file.
#[derive(Clone, Debug)]
pub(super) enum BlockKind {
    /// `Linear m n`: `weight` is `m × n` (inputs × outputs), row-major; `bias` has `n` entries.
    Linear {
        m: usize,
        n: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        /// The weights were written one row per line (the toolbox's legacy format).
        legacy_rows: bool,
    },
    /// `Convolution h w d n s0 s1`: `weight` in C order over `[h, w, d, n]`; `bias` has `n` entries.
    Convolution {
        h: usize,
        w: usize,
        d: usize,
        n: usize,
        stride: [usize; 2],
        weight: Vec<f32>,
        bias: Vec<f32>,
    },
    /// `SumPool h w s0 s1`.
    SumPool {
        pool: [usize; 2],
        stride: [usize; 2],
    },
    /// `MaxPool h w s0 s1`.
    MaxPool {
        pool: [usize; 2],
        stride: [usize; 2],
    },
    Flatten,
    Rect,
    Tanh,
    SoftMax,
}

/// A block and the (1-based) line of its keyword.
#[derive(Clone, Debug)]
pub(super) struct Block {
    pub line: usize,
    pub kind: BlockKind,
}

impl BlockKind {
    pub fn keyword(&self) -> &'static str {
        match self {
            BlockKind::Linear { .. } => "Linear",
            BlockKind::Convolution { .. } => "Convolution",
            BlockKind::SumPool { .. } => "SumPool",
            BlockKind::MaxPool { .. } => "MaxPool",
            BlockKind::Flatten => "Flatten",
            BlockKind::Rect => "Rect",
            BlockKind::Tanh => "Tanh",
            BlockKind::SoftMax => "SoftMax",
        }
    }
}

const KEYWORDS: &str = "Linear, Convolution, SumPool, MaxPool, Flatten, Rect, Tanh, SoftMax";

/// Parses the whole file. Errors are `line N: problem` messages (the caller adds the file name).
pub(super) fn parse(text: &str) -> Result<Vec<Block>, String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cursor = Cursor { lines: &lines, next: 0 };
    let mut blocks = vec![];
    while let Some((line, tokens)) = cursor.next_nonblank() {
        let Some((&keyword, params)) = tokens.split_first() else {
            continue;
        };
        let kind = match keyword {
            "Linear" => {
                let [m, n] = integers(line, keyword, params, "inputs outputs")?;
                linear(&mut cursor, line, m, n)?
            }
            "Convolution" => {
                let [h, w, d, n, s0, s1] =
                    integers(line, keyword, params, "height width depth filters stride0 stride1")?;
                let count = checked_count(line, &[h, w, d, n])?;
                let weight = cursor.numbers(line, keyword, "the weights", count)?;
                let bias = cursor.numbers(line, keyword, "the bias", n)?;
                BlockKind::Convolution {
                    h,
                    w,
                    d,
                    n,
                    stride: [s0, s1],
                    weight,
                    bias,
                }
            }
            "SumPool" | "MaxPool" => {
                let [h, w, s0, s1] = integers(line, keyword, params, "height width stride0 stride1")?;
                let (pool, stride) = ([h, w], [s0, s1]);
                if keyword == "SumPool" {
                    BlockKind::SumPool { pool, stride }
                } else {
                    BlockKind::MaxPool { pool, stride }
                }
            }
            // Parameterless layers: the toolbox ignores anything after the name (old files wrote sizes there).
            "Flatten" => BlockKind::Flatten,
            "Rect" => BlockKind::Rect,
            "Tanh" => BlockKind::Tanh,
            "SoftMax" => BlockKind::SoftMax,
            other => {
                return Err(format!(
                    "line {line}: unknown layer keyword {other:?}; expected one of {KEYWORDS}"
                ));
            }
        };
        blocks.push(Block { line, kind });
    }
    if blocks.is_empty() {
        return Err("no layers found (expected lines such as `Linear 784 300`)".into());
    }
    Ok(blocks)
}

/// `Linear m n`: the weights on one line (`m·n` numbers) or, in the legacy format, on `m` lines of `n`.
fn linear(cursor: &mut Cursor<'_>, line: usize, m: usize, n: usize) -> Result<BlockKind, String> {
    let count = checked_count(line, &[m, n])?;
    let legacy_rows = m > 1 && cursor.peek_count() == Some(n);
    let weight = if legacy_rows {
        let mut weight = Vec::new();
        for row in 0..m {
            let what = format!("weight row {} of {m}", row + 1);
            weight.extend(cursor.numbers(line, "Linear", &what, n)?);
        }
        weight
    } else {
        cursor.numbers(line, "Linear", "the weights", count)?
    };
    let bias = cursor.numbers(line, "Linear", "the bias", n)?;
    Ok(BlockKind::Linear {
        m,
        n,
        weight,
        bias,
        legacy_rows,
    })
}

/// Product of header sizes, refusing overflow.
fn checked_count(line: usize, sizes: &[usize]) -> Result<usize, String> {
    sizes
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or_else(|| format!("line {line}: layer sizes {sizes:?} are too large"))
}

/// The `N` positive integers after a keyword.
fn integers<const N: usize>(line: usize, keyword: &str, params: &[&str], names: &str) -> Result<[usize; N], String> {
    let usage = format!("line {line}: expected `{keyword} {names}` ({N} positive integers)");
    if params.len() != N {
        return Err(format!("{usage}, got {} values", params.len()));
    }
    let mut out = [0usize; N];
    for (slot, token) in out.iter_mut().zip(params) {
        *slot = match token.parse::<usize>() {
            Ok(v) if v > 0 => v,
            _ => return Err(format!("{usage}, got {token:?}")),
        };
    }
    Ok(out)
}

struct Cursor<'a> {
    lines: &'a [&'a str],
    /// Index of the next unread line.
    next: usize,
}

impl<'a> Cursor<'a> {
    /// The next line with any tokens, as (1-based line number, tokens).
    fn next_nonblank(&mut self) -> Option<(usize, Vec<&'a str>)> {
        let lines: &'a [&'a str] = self.lines;
        while let Some(text) = lines.get(self.next) {
            self.next += 1;
            let tokens: Vec<&str> = text.split_whitespace().collect();
            if !tokens.is_empty() {
                return Some((self.next, tokens));
            }
        }
        None
    }

    /// Number of tokens on the next line, if there is one.
    fn peek_count(&self) -> Option<usize> {
        self.lines.get(self.next).map(|l| l.split_whitespace().count())
    }

    /// Reads the next line as exactly `count` finite numbers.
    fn numbers(&mut self, block_line: usize, keyword: &str, what: &str, count: usize) -> Result<Vec<f32>, String> {
        let line = self.next + 1;
        let Some(text) = self.lines.get(self.next) else {
            return Err(format!(
                "line {line}: the file ends inside the {keyword} block of line {block_line}: \
                 expected {what} ({count} numbers)"
            ));
        };
        self.next += 1;
        let found = text.split_whitespace().count();
        if found != count {
            return Err(format!(
                "line {line}: {what} of the {keyword} block of line {block_line} must be {count} numbers, found {found}"
            ));
        }
        let mut out = Vec::with_capacity(count);
        for (index, token) in text.split_whitespace().enumerate() {
            let value: f32 = token
                .parse()
                .map_err(|_| format!("line {line}, number {}: {token:?} is not a number", index + 1))?;
            if !value.is_finite() {
                return Err(format!(
                    "line {line}, number {}: {token:?} is not finite (NaN or infinity)",
                    index + 1
                ));
            }
            out.push(value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_blocks_and_skips_blank_lines() {
        let text = "Linear 2 3\n1 2 3 4 5 6\n0.5 0 -1\n\nRect\r\nSumPool 2 2 2 2\nSoftMax 3 3\n";
        let blocks = parse(text).unwrap();
        let keywords: Vec<_> = blocks.iter().map(|b| (b.line, b.kind.keyword())).collect();
        assert_eq!(keywords, [(1, "Linear"), (5, "Rect"), (6, "SumPool"), (7, "SoftMax")]);
        match &blocks[0].kind {
            BlockKind::Linear { weight, bias, .. } => {
                assert_eq!(weight, &[1., 2., 3., 4., 5., 6.]);
                assert_eq!(bias, &[0.5, 0., -1.]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_legacy_row_per_line_weights() {
        let blocks = parse("Linear 2 3\n1 2 3\n4 5 6\n0 0 0\n").unwrap();
        match &blocks[0].kind {
            BlockKind::Linear {
                weight, legacy_rows, ..
            } => {
                assert!(legacy_rows);
                assert_eq!(weight, &[1., 2., 3., 4., 5., 6.]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn header_errors_name_the_line() {
        let err = parse("Rect\nLinear 3\n").unwrap_err();
        assert!(err.starts_with("line 2: expected `Linear inputs outputs`"), "{err}");
        let err = parse("MaxPool 2 0 2 2\n").unwrap_err();
        assert!(err.contains("\"0\""), "{err}");
    }
}
