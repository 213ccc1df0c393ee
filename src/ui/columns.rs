//! Table columns that fit the width: when a table is too wide, whole
//! columns are left out, least important first, instead of squeezing every
//! column until none is readable.

use ratatui::layout::Constraint;
use ratatui::style::Style;
use ratatui::widgets::{Cell, Row, Table};

use super::theme::Theme;

/// One column of a table.
#[derive(Debug, Clone, Copy)]
pub struct Col {
    /// Header text.
    pub title: &'static str,
    /// Width it needs (the flexible column: the least it needs).
    pub width: u16,
    /// 0 is always shown; higher numbers are left out first.
    pub drop: u8,
    /// Takes the width left over.
    pub flex: bool,
}

impl Col {
    /// A fixed-width column.
    pub const fn fixed(title: &'static str, width: u16, drop: u8) -> Col {
        Col {
            title,
            width,
            drop,
            flex: false,
        }
    }

    /// The column that takes the remaining width (at least `min`).
    pub const fn flex(title: &'static str, min: u16, drop: u8) -> Col {
        Col {
            title,
            width: min,
            drop,
            flex: true,
        }
    }
}

/// Space between columns.
const SPACING: u16 = 1;

/// Which columns fit in `width`: a mask in column order. Columns are left
/// out from the highest `drop` rank down until the rest fits (rank 0 stays).
pub fn fit(cols: &[Col], width: u16) -> Vec<bool> {
    let mut keep = vec![true; cols.len()];
    let need = |keep: &[bool]| -> u32 {
        let shown: Vec<&Col> = cols
            .iter()
            .zip(keep)
            .filter(|(_, k)| **k)
            .map(|(c, _)| c)
            .collect();
        let gaps = shown.len().saturating_sub(1) as u32 * u32::from(SPACING);
        shown.iter().map(|c| u32::from(c.width)).sum::<u32>() + gaps
    };
    let max_rank = cols.iter().map(|c| c.drop).max().unwrap_or(0);
    for rank in (1..=max_rank).rev() {
        if need(&keep) <= u32::from(width) {
            break;
        }
        for (k, c) in keep.iter_mut().zip(cols) {
            if c.drop == rank {
                *k = false;
            }
        }
    }
    keep
}

/// The constraints of the kept columns.
fn widths(cols: &[Col], keep: &[bool]) -> Vec<Constraint> {
    cols.iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| {
            if c.flex {
                // `fit` left it at least `c.width`; Fill gives it all the slack.
                Constraint::Fill(1)
            } else {
                Constraint::Length(c.width)
            }
        })
        .collect()
}

/// Keeps the items of the kept columns (cells of a row, titles).
fn pick<T>(items: impl IntoIterator<Item = T>, keep: &[bool]) -> Vec<T> {
    items
        .into_iter()
        .zip(keep)
        .filter(|(_, k)| **k)
        .map(|(t, _)| t)
        .collect()
}

/// A table of the columns that fit in `width`: the titles as the header row,
/// then `rows`, each its cells in `cols` order and its style.
pub fn table<'a, C>(
    cols: &[Col],
    width: u16,
    rows: impl IntoIterator<Item = (C, Style)>,
    theme: &Theme,
) -> Table<'a>
where
    C: IntoIterator<Item = Cell<'a>>,
{
    let keep = fit(cols, width);
    let header =
        Row::new(pick(cols.iter().map(|c| Cell::from(c.title)), &keep)).style(theme.header);
    let rows = rows
        .into_iter()
        .map(|(cells, style)| Row::new(pick(cells, &keep)).style(style));
    Table::new(rows, widths(cols, &keep))
        .header(header)
        .column_spacing(SPACING)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_highest_rank_first() {
        let cols = [
            Col::fixed("a", 10, 0),
            Col::fixed("b", 10, 2),
            Col::flex("c", 10, 0),
            Col::fixed("d", 10, 1),
        ];
        assert_eq!(fit(&cols, 43), vec![true; 4]);
        assert_eq!(fit(&cols, 40), vec![true, false, true, true]);
        assert_eq!(fit(&cols, 25), vec![true, false, true, false]);
        assert_eq!(fit(&cols, 0), vec![true, false, true, false]);
    }
}
