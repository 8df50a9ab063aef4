package ai.chunkwise.train.engine;

import ai.chunkwise.train.checkpoint.HfCheckpoint;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.model.LlamaConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One golden fixture of shared/fixtures/hf-llama (copied to src/test/resources): the checkpoint, the optional
 * LoRA adapter and what transformers computed for it (input_ids, logits, loss, grad.*), all in float64.
 */
record HfReference(LlamaConfig config, Map<String, INDArray> weights, PeftAdapter adapter, long[][] inputIds,
                   INDArray logits, double loss, Map<String, INDArray> gradients) {

    static HfReference load(Path dir, boolean withAdapter) {
        return load(dir, withAdapter, dir.resolve("reference.safetensors"));
    }

    /** The checkpoint (and adapter) of {@code dir} with the outputs stored in {@code referenceFile}. */
    static HfReference load(Path dir, boolean withAdapter, Path referenceFile) {
        HfCheckpoint checkpoint = HfCheckpoint.load(dir, DataType.DOUBLE);
        PeftAdapter adapter = withAdapter ? PeftAdapter.load(dir.resolve("adapter"), DataType.DOUBLE) : null;
        Map<String, INDArray> ref = SafeTensors.read(referenceFile, DataType.DOUBLE);
        INDArray ids = ref.get("input_ids");
        long[][] tokens = new long[(int) ids.size(0)][(int) ids.size(1)];
        for (int b = 0; b < tokens.length; b++) {
            for (int j = 0; j < tokens[b].length; j++) {
                tokens[b][j] = ids.getLong(b, j);
            }
        }
        Map<String, INDArray> grads = new LinkedHashMap<>();
        ref.forEach((name, t) -> {
            if (name.startsWith("grad.")) {
                grads.put(name.substring("grad.".length()), t);
            }
        });
        return new HfReference(checkpoint.config(), checkpoint.weights(), adapter, tokens, ref.get("logits"),
                ref.get("loss").getDouble(0), grads);
    }

    int rows() {
        return inputIds.length;
    }

    int length() {
        return inputIds[0].length;
    }
}
