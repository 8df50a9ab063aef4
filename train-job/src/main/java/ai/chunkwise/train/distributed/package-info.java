/**
 * Data-parallel training on Spark executors ({@code train.distributed = spark}), the way MLlib trains: each
 * optimizer step is one Spark job whose tasks are the step's micro-batches. The driver plans them by (step, index)
 * from the data order ({@link ai.chunkwise.train.data.TrainingReferenceStream}), broadcasts the trainable weights,
 * and adds the returned gradients in micro-batch order, so a step equals single-process gradient accumulation of
 * the same global batch. Executors keep the frozen model loaded across steps and read their rows from the shards.
 */
package ai.chunkwise.train.distributed;
