//! `index.csv`: one line per exported sample (index, label, prediction, target, logit, relevance sum, file).

/// The header line of the index file.
pub const HEADER: &str = "index,label,prediction,target,target_logit,relevance_sum,file";

/// One exported sample.
#[derive(Clone, Debug, PartialEq)]
pub struct IndexRow {
    /// Index of the sample in the dataset.
    pub index: usize,
    pub label: Option<u8>,
    /// The class with the largest logit.
    pub prediction: usize,
    /// The explained class.
    pub target: usize,
    /// The logit of the explained class.
    pub target_logit: f32,
    /// Σ relevance at the model input.
    pub relevance_sum: f32,
    /// The PNG's file name (relative to the output folder).
    pub file: String,
}

/// The index file's name: `index.csv` for a whole export, `index_<i>of<n>.csv` for shard `i` of `n > 1`, so that
/// shards writing into one folder keep separate indices.
pub fn index_name(shard_index: usize, shard_count: usize) -> String {
    if shard_count > 1 {
        format!("index_{shard_index}of{shard_count}.csv")
    } else {
        "index.csv".to_string()
    }
}

/// The CSV text of `rows` (sorted by sample index), header first. A missing label is an empty field.
pub fn index_csv(rows: &[IndexRow]) -> String {
    let mut sorted: Vec<&IndexRow> = rows.iter().collect();
    sorted.sort_by_key(|r| r.index);
    let mut text = format!("{HEADER}\n");
    for r in sorted {
        let label = r.label.map(|l| l.to_string()).unwrap_or_default();
        text.push_str(&format!(
            "{},{label},{},{},{},{},{}\n",
            r.index, r.prediction, r.target, r.target_logit, r.relevance_sum, r.file
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_sorted_and_names() {
        let row = |index, label| IndexRow {
            index,
            label,
            prediction: 7,
            target: 7,
            target_logit: 1.5,
            relevance_sum: -0.25,
            file: format!("{index}.png"),
        };
        let text = index_csv(&[row(3, None), row(1, Some(7))]);
        assert_eq!(
            text,
            format!("{HEADER}\n1,7,7,7,1.5,-0.25,1.png\n3,,7,7,1.5,-0.25,3.png\n")
        );
        assert_eq!(index_name(0, 1), "index.csv");
        assert_eq!(index_name(1, 4), "index_1of4.csv");
    }
}
