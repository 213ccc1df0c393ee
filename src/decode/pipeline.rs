//! The whole decode pipeline for one capture stream.

/// Limits of the pipeline.
#[derive(Debug, Clone, Default)]
pub struct PipelineConfig {}

/// What the pipeline produces.
#[derive(Debug)]
pub enum Event {}

/// Counters.
#[derive(Debug, Default)]
pub struct Stats {}

/// The pipeline.
#[derive(Debug, Default)]
pub struct Pipeline {}
