package ai.chunkwise.train.distributed;

import ai.chunkwise.train.data.SourceSpec;
import ai.chunkwise.train.engine.EngineSpec;
import ai.chunkwise.train.model.LoraConfig;

import java.io.Serializable;
import java.util.List;

/**
 * What an executor needs to compute micro-batch gradients for a run, sent with every task. Executors keep one
 * loaded model per distinct job (records compare by value), so the frozen model loads once per executor JVM.
 *
 * @param sources            the run's datasets (train.data), read by reference on the executor
 * @param modelLocation      the base model (train.model.path as given: a Hadoop URI, or a local path that exists on
 *                           every executor, e.g. shipped with --archives); loaded only for LoRA, whose base is frozen
 * @param configJson         the model's config.json; with full fine-tuning the executor builds the model from it
 *                           and the broadcast weights alone
 * @param lora               the adapter's shape, or null for full fine-tuning
 * @param sequenceLength     tokens per row, for the executor's memory check
 * @param memoryLimit        the executor's memory budget: "auto" or a size (train.spark.executor-memory-limit)
 */
public record ExecutorJob(List<SourceSpec> sources, long maxSequences, boolean verifyChecksums,
                          boolean documentBoundaries, String modelLocation, String configJson, LoraConfig lora,
                          boolean float64, EngineSpec engine, int batchSize, long gcThresholdBytes,
                          long sequenceLength, String memoryLimit) implements Serializable {
    public ExecutorJob {
        sources = List.copyOf(sources);
        if (lora != null && modelLocation == null) {
            throw new IllegalArgumentException("a LoRA run needs the base model's location (train.model.path)");
        }
    }
}
