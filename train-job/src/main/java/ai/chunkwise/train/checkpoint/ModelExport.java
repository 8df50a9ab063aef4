package ai.chunkwise.train.checkpoint;

import org.nd4j.linalg.api.buffer.DataType;

import java.nio.file.Path;
import java.util.Locale;

/**
 * How a trained model is written for use outside Chunkwise: the element type of its weights, the shard size
 * above which they are split, and where the tokenizer files and generation config come from.
 *
 * @param dtype         {@code auto} (the source checkpoint's type: bf16 stays bf16; the training type when there
 *                      is no source), {@code float32}, {@code bfloat16}, {@code float16} or {@code float64}
 * @param maxShardBytes weights above this size are split into shards with a {@code model.safetensors.index.json}
 *                      (transformers' {@code max_shard_size}; "5GB" = 5,000,000,000 bytes by default)
 * @param sourceModel   the Hugging Face directory the model was loaded from, or null (trained from scratch)
 * @param tokenizerDir  the directory holding the tokenizer files to copy alongside, or null
 */
public record ModelExport(String dtype, long maxShardBytes, Path sourceModel, Path tokenizerDir) {

    /** transformers' default {@code max_shard_size} ("5GB", decimal units as transformers reads them). */
    public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;
    public static final String AUTO = "auto";

    public static final ModelExport DEFAULT = new ModelExport(AUTO, DEFAULT_MAX_SHARD_BYTES, null, null);

    public ModelExport {
        dtype = dtype == null ? AUTO : dtype.trim().toLowerCase(Locale.ROOT);
        if (!dtype.equals(AUTO)) {
            parseDtype(dtype);
        }
        if (maxShardBytes <= 0) {
            throw new IllegalArgumentException("train.save.max-shard-size must be > 0 bytes, got " + maxShardBytes);
        }
    }

    /** The type the weights are stored in, for a model trained in {@code trainingType} (FLOAT or DOUBLE). */
    public DataType storeAs(DataType trainingType) {
        if (!dtype.equals(AUTO)) {
            return parseDtype(dtype);
        }
        return sourceModel == null ? trainingType : HfCheckpoint.storedFloatType(sourceModel);
    }

    /** transformers' name of a stored type ("bfloat16", ...), as config.json's torch_dtype spells it. */
    public static String torchName(DataType type) {
        return switch (type) {
            case FLOAT -> "float32";
            case DOUBLE -> "float64";
            case BFLOAT16 -> "bfloat16";
            case HALF -> "float16";
            default -> throw new IllegalArgumentException("not a stored weight type: " + type);
        };
    }

    private static DataType parseDtype(String name) {
        return switch (name) {
            case "float32" -> DataType.FLOAT;
            case "float64" -> DataType.DOUBLE;
            case "bfloat16" -> DataType.BFLOAT16;
            case "float16" -> DataType.HALF;
            default -> throw new IllegalArgumentException("train.save.dtype must be auto, float32, bfloat16, float16"
                    + " or float64, got '" + name + "'");
        };
    }
}
