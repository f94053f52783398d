//! Which samples the browser shows (class filter, misclassified only) and stepping through them.

use super::state::{Session, Settings};

/// The sample indices the browser shows: class filter and "misclassified only" applied.
pub fn visible_samples(settings: &Settings, session: &Session) -> Vec<usize> {
    let Some(data) = &session.dataset else {
        return Vec::new();
    };
    (0..data.len())
        .filter(|&i| match settings.class_filter {
            Some(c) => data.label(i).or_else(|| session.predicted_class(i)) == Some(c),
            None => true,
        })
        .filter(|&i| {
            !settings.misclassified_only
                || matches!((data.label(i), session.predicted_class(i)), (Some(l), Some(p)) if l != p)
        })
        .collect()
}

/// The index `delta` steps from `current` in `visible` (from the nearest following entry if `current` is hidden).
pub(super) fn step_in(visible: &[usize], current: usize, delta: i64) -> Option<usize> {
    if visible.is_empty() {
        return None;
    }
    let pos = match visible.binary_search(&current) {
        Ok(p) => p as i64 + delta,
        Err(p) if delta > 0 => p as i64 + delta - 1,
        Err(p) => p as i64 + delta,
    };
    visible.get(pos.clamp(0, visible.len() as i64 - 1) as usize).copied()
}

#[cfg(test)]
mod tests {
    use super::step_in;

    #[test]
    fn steps_within_the_filtered_samples() {
        let v = [2, 5, 9];
        assert_eq!(step_in(&v, 5, 1), Some(9));
        assert_eq!(step_in(&v, 9, 1), Some(9));
        assert_eq!(step_in(&v, 5, -1), Some(2));
        assert_eq!(step_in(&v, 6, 1), Some(9));
        assert_eq!(step_in(&v, 6, -1), Some(5));
        assert_eq!(step_in(&[], 0, 1), None);
    }
}
