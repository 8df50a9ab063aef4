package ai.chunkwise.train.checkpoint;

import ai.chunkwise.train.model.LlamaConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The fully fine-tuned model inside a training checkpoint: {@code model/} as transformers loads it (in the export's
 * type, e.g. bf16), plus {@value #MASTER_WEIGHTS_FILE} in the training precision whenever {@code model/} is narrower,
 * so that resuming stays exact (a run split at a checkpoint equals an unsplit one).
 */
public final class TrainedModelFiles {
    public static final String MASTER_WEIGHTS_FILE = "master_weights.safetensors";

    private TrainedModelFiles() {
    }

    /** Writes {@code checkpointDir/modelDirName} and, when needed, the master weights beside it. */
    public static void write(Path checkpointDir, String modelDirName, LlamaConfig config, Map<String, INDArray> weights,
                             DataType trainingType, ModelExport export) throws IOException {
        Path model = checkpointDir.resolve(modelDirName);
        Files.createDirectories(model);
        LinkedHashMap<String, INDArray> ordered = HfCheckpoint.checkedForSaving(model, config, weights);
        HfModelWriter.write(model, config, ordered, trainingType, export);
        if (isNarrower(export.storeAs(trainingType), trainingType)) {
            SafeTensors.write(checkpointDir.resolve(MASTER_WEIGHTS_FILE), ordered, Map.of("format", "pt"), trainingType);
        }
    }

    /** The model of a checkpoint for resuming: {@code model/}'s config with the master weights when present. */
    public static HfCheckpoint loadForResume(Path checkpointDir, String modelDirName, DataType trainingType) {
        HfCheckpoint exported = HfCheckpoint.load(checkpointDir.resolve(modelDirName), trainingType);
        Path master = checkpointDir.resolve(MASTER_WEIGHTS_FILE);
        if (!Files.isRegularFile(master)) {
            return exported;
        }
        LinkedHashMap<String, INDArray> weights = SafeTensors.read(master, trainingType);
        if (!weights.keySet().equals(exported.weights().keySet())) {
            throw new IllegalArgumentException(master + " does not hold the same tensors as " + checkpointDir.resolve(
                    modelDirName) + ": the checkpoint is damaged; resume from an earlier one");
        }
        for (Map.Entry<String, INDArray> e : exported.weights().entrySet()) {
            if (!java.util.Arrays.equals(e.getValue().shape(), weights.get(e.getKey()).shape())) {
                throw new IllegalArgumentException(master + ": tensor \"" + e.getKey() + "\" has another shape than in "
                        + modelDirName + "/: the checkpoint is damaged; resume from an earlier one");
            }
        }
        return HfCheckpoint.of(exported.config(), weights);
    }

    private static int bits(DataType t) {
        return switch (t) {
            case DOUBLE -> 64;
            case FLOAT -> 32;
            default -> 16;
        };
    }

    private static boolean isNarrower(DataType stored, DataType training) {
        return bits(stored) < bits(training);
    }
}
