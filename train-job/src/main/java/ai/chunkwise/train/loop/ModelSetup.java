package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.FrozenWeights;
import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.TrainedModelFiles;
import ai.chunkwise.train.memory.MemoryEstimate;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.model.LlamaModel;
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
        Path configFile = checkpoint != null && s.lora() == null
                ? checkpoint.resolve(CheckpointStore.MODEL_DIR).resolve(HfCheckpoint.CONFIG_FILE)
                : s.modelPath() != null ? s.modelPath().resolve(HfCheckpoint.CONFIG_FILE) : s.initConfig();
        LlamaConfig config = LlamaConfig.fromJson(configFile);
        int bytes = s.dataType() == DataType.DOUBLE ? 8 : 4;
        // a LoRA run's frozen base stays in its checkpoint's type (create loads it so)
        int frozenBytes = s.lora() != null && s.modelPath() != null
                ? HfCheckpoint.bytesPerWeight(s.modelPath(), s.dataType(), FrozenWeights.AS_STORED) : bytes;
        MemoryEstimate.require(configFile.toString(), () -> MemoryEstimate.of(config, s.lora(), bytes, frozenBytes,
                s.batchSize(), seqLen, chunkSize, !s.method().chunked()), MemoryEstimate.availableBytes());
    }

    /** Loads or initialises the model; {@code checkpoint} is the one resumed from, or null. */
    static ModelSetup create(TrainSettings s, Path checkpoint) {
        LlamaConfig config;
        Map<String, INDArray> weights;
        String source;
        if (checkpoint != null && s.lora() == null) {
            HfCheckpoint hf = TrainedModelFiles.loadForResume(checkpoint, CheckpointStore.MODEL_DIR, s.dataType());
            config = hf.config();
            weights = hf.weights();
            source = s.modelPath() != null ? s.modelLocation() : "from scratch (" + s.initConfig() + ")";
        } else if (s.modelPath() != null) {
            // a LoRA run's base is frozen: a bf16/fp16 checkpoint stays in its own type (half of float32)
            HfCheckpoint hf = HfCheckpoint.load(s.modelPath(), s.dataType(), FrozenWeights.forRun(s.lora() != null));
            config = hf.config();
            weights = hf.weights();
            source = s.modelLocation();   // as given: a remote URI, not its local copy
        } else {
            config = LlamaConfig.fromJson(s.initConfig());
            weights = RandomInit.weights(config, s.initSeed(), s.initStd(), s.dataType());
            source = "from scratch (" + s.initConfig() + ")";
        }
        PeftAdapter adapter = null;
        if (s.lora() != null) {
            adapter = checkpoint != null
                    ? PeftAdapter.load(checkpoint.resolve(CheckpointStore.ADAPTER_DIR), s.dataType())
                    : PeftAdapter.init(config, s.lora(), s.loraSeed(), s.dataType());
            if (!adapter.config().equals(s.lora())) {
                throw new IllegalArgumentException("checkpoint " + checkpoint + " holds a LoRA adapter " + adapter.config()
                        + " but the configuration asks for " + s.lora() + ": resume with the run's own configuration");
            }
        }
        LlamaModel model = new LlamaModel(config, weights, adapter, s.dataType(), s.batchSize());
        model.setNativeMemoryCollectionThreshold(s.gcThresholdMb() << 20);
        return new ModelSetup(model, source, s.baseModelName());
    }
}
