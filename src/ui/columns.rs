//! Table columns that fit the width: when a table is too wide, whole
//! columns are left out, least important first, instead of squeezing every
//! column until none is readable.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

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

/// One cell of a [`Grid`]: drawn exactly as ratatui's table draws a cell
/// made from the same span or line, without the `Text` and `Row` around it.
#[derive(Debug, Clone)]
pub enum Cell<'a> {
    /// Text from the left edge, cut at the right one.
    Span(Span<'a>),
    /// A line with its own alignment (right-aligned numbers).
    Line(Line<'a>),
}

impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Span(Span::raw(s))
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Span(Span::raw(s))
    }
}

impl<'a> From<std::borrow::Cow<'a, str>> for Cell<'a> {
    fn from(s: std::borrow::Cow<'a, str>) -> Self {
        Cell::Span(Span::raw(s))
    }
}

impl<'a> From<Span<'a>> for Cell<'a> {
    fn from(s: Span<'a>) -> Self {
        Cell::Span(s)
    }
}

impl<'a> From<Line<'a>> for Cell<'a> {
    fn from(l: Line<'a>) -> Self {
        Cell::Line(l)
    }
}

impl Cell<'_> {
    fn render(&self, area: Rect, buf: &mut Buffer) {
        match self {
            Cell::Span(s) => s.render(area, buf),
            Cell::Line(l) => l.render(area, buf),
        }
    }
}

/// The columns that fit, a header row, then rows: what `table` returns.
///
/// It lays the columns out as ratatui's `Table` does (the same constraints,
/// spacing and flex) and draws each row's style across the row, then each
/// cell; but it draws rows as they come, with no `Row` or `Text` built for
/// them, and stops at the bottom of its area.
pub struct Grid<'a, R> {
    keep: Vec<bool>,
    widths: Vec<Constraint>,
    titles: Vec<&'static str>,
    header_style: Style,
    rows: R,
    _cells: std::marker::PhantomData<Cell<'a>>,
}

impl<'a, R, C> Widget for Grid<'a, R>
where
    R: Iterator<Item = (C, Style)>,
    C: IntoIterator<Item = Cell<'a>>,
{
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let columns = Layout::horizontal(self.widths)
            .flex(Flex::Start)
            .spacing(SPACING)
            .split(Rect::new(0, 0, area.width, 1));
        let cell_area = |col: &Rect, y: u16| Rect::new(area.x + col.x, y, col.width, 1);
        let header = Rect { height: 1, ..area };
        buf.set_style(header, self.header_style);
        for (col, title) in columns.iter().zip(&self.titles) {
            Span::raw(*title).render(cell_area(col, area.y), buf);
        }
        for (y, (cells, style)) in (area.y + 1..area.bottom()).zip(self.rows) {
            buf.set_style(
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                style,
            );
            let kept = cells.into_iter().zip(&self.keep).filter(|(_, k)| **k);
            for (col, (cell, _)) in columns.iter().zip(kept) {
                cell.render(cell_area(col, y), buf);
            }
        }
    }
}

/// A table of the columns that fit in `width`: the titles as the header row,
/// then `rows`, each its cells in `cols` order and its style.
pub fn table<'a, C, R>(cols: &[Col], width: u16, rows: R, theme: &Theme) -> Grid<'a, R::IntoIter>
where
    R: IntoIterator<Item = (C, Style)>,
    C: IntoIterator<Item = Cell<'a>>,
{
    let keep = fit(cols, width);
    let titles = cols
        .iter()
        .zip(&keep)
        .filter(|(_, k)| **k)
        .map(|(c, _)| c.title)
        .collect();
    Grid {
        widths: widths(cols, &keep),
        keep,
        titles,
        header_style: theme.header,
        rows: rows.into_iter(),
        _cells: std::marker::PhantomData,
    }
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
