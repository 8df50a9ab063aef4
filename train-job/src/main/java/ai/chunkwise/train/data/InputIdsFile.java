package ai.chunkwise.train.data;

import ai.chunkwise.train.checkpoint.SafeTensors;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.Map;

/** A batch of token ids stored as a safetensors file (tensor {@code input_ids}, int64 or int32 [batch, seq]). */
public final class InputIdsFile {
    private InputIdsFile() {
    }

    /** input_ids as long[batch][seq]; errors name the file and what is wrong. */
    public static long[][] read(Path file) {
        Map<String, INDArray> tensors = SafeTensors.read(file, DataType.DOUBLE);
        INDArray ids = tensors.get("input_ids");
        if (ids == null) {
            throw new IllegalArgumentException(file + " has no tensor \"input_ids\" (found " + tensors.keySet()
                    + "): store the token ids as int64 input_ids [batch, seq]");
        }
        if (ids.rank() != 2 || ids.size(1) < 2 || (ids.dataType() != DataType.LONG && ids.dataType() != DataType.INT)) {
            throw new IllegalArgumentException(file + ": input_ids must be an int64 or int32 tensor [batch, seq >= 2],"
                    + " got " + ids.dataType() + " " + java.util.Arrays.toString(ids.shape()));
        }
        long[][] tokens = new long[(int) ids.size(0)][];
        for (int b = 0; b < tokens.length; b++) {
            tokens[b] = ids.getRow(b).dup().toLongVector();
        }
        return tokens;
    }
}
