package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.TrainedModelFiles;
import ai.chunkwise.train.memory.MemoryEstimate;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
import ai.chunkwise.train.model.LoraConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.Map;

/**
 * The model to train and where it came from: a checkpoint being resumed, a Hugging Face model, or random weights
 * from a config.json; with a LoRA adapter, new or resumed.
 *
 * @param source    how the report names the model (a remote URI as given, not its local copy)
 * @param baseModel the base model's name a PEFT adapter records
 */
record ModelSetup(LlamaModel model, String source, String baseModel) {

    /**
     * Estimates the run's memory from the model's config.json alone and refuses a run that cannot fit: before
     * any weight is read.
     */
    static void requireMemory(TrainSettings s, Path checkpoint, long seqLen, int chunkSize) {
        TrainSettings.Model m = s.model();
        Path configFile = checkpoint != null && m.lora() == null
                ? checkpoint.resolve(CheckpointStore.MODEL_DIR).resolve(HfCheckpoint.CONFIG_FILE)
                : m.path() != null ? m.path().resolve(HfCheckpoint.CONFIG_FILE) : m.initConfig();
        LlamaConfig config = LlamaConfig.fromJson(configFile);
        int bytes = m.dataType() == DataType.DOUBLE ? 8 : 4;
        // a LoRA run's frozen base stays in its checkpoint's type (create loads it so)
        int frozenBytes = m.lora() != null && m.path() != null
                ? HfCheckpoint.bytesPerWeight(m.path(), m.dataType(), FrozenWeights.AS_STORED) : bytes;
        if (s.distributed().spark()) {   // the executors check the step's memory; the driver holds the weights
            MemoryEstimate.requireWeights(configFile.toString(), config, bytes, MemoryEstimate.availableBytes());
            return;
        }
        boolean full = !s.method().name().chunked();
        int kvBytes = s.method().kvCache().bytesPerValue(bytes);
        MemoryEstimate.require(configFile.toString(), () -> MemoryEstimate.of(config, m.lora(), bytes, frozenBytes,
                kvBytes, s.batchSize(), seqLen, chunkSize, full), MemoryEstimate.availableBytes());
    }

    /** Loads or initialises the model; {@code checkpoint} is the one resumed from, or null. */
    static ModelSetup create(TrainSettings s, Path checkpoint) {
        TrainSettings.Model m = s.model();
        LlamaConfig config;
        Map<String, INDArray> weights;
        String source;
        LoraConfig lora = m.lora();
        if (checkpoint != null && lora == null) {
            HfCheckpoint hf = TrainedModelFiles.loadForResume(checkpoint, CheckpointStore.MODEL_DIR, m.dataType());
            config = hf.config();
            weights = hf.weights();
            source = m.path() != null ? m.location() : "from scratch (" + m.initConfig() + ")";
        } else if (m.path() != null) {
            // a LoRA run's base is frozen: a bf16/fp16 checkpoint stays in its own type (half of float32)
            HfCheckpoint hf = HfCheckpoint.load(m.path(), m.dataType(), FrozenWeights.forRun(lora != null));
            config = hf.config();
            weights = hf.weights();
            source = m.location();   // as given: a remote URI, not its local copy
        } else {
            config = LlamaConfig.fromJson(m.initConfig());
            weights = RandomInit.weights(config, m.initSeed(), m.initStd(), m.dataType());
            source = "from scratch (" + m.initConfig() + ")";
        }
        PeftAdapter adapter = null;
        if (lora != null) {
            adapter = checkpoint != null
                    ? PeftAdapter.load(checkpoint.resolve(CheckpointStore.ADAPTER_DIR), m.dataType())
                    : PeftAdapter.init(config, lora, m.loraSeed(), m.dataType());
            if (!adapter.config().equals(lora)) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " holds a LoRA adapter " + adapter.config()
                        + " but the configuration asks for " + lora + ": resume with the run's own configuration");
            }
        }
        LlamaModel model = new LlamaModel(config, weights, adapter, m.dataType(), s.batchSize());
        model.setNativeMemoryCollectionThreshold(m.gcThresholdMb() << 20);
        return new ModelSetup(model, source, s.baseModelName());
    }
}
