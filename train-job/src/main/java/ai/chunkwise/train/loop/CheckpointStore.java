package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import ai.chunkwise.train.checkpoint.HfModelWriter;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.checkpoint.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.checkpoint.TrainedModelFiles;
import ai.chunkwise.train.model.LlamaConfig;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * {@code <output>/checkpoints/step-NNNNNN/}: the trained weights ({@code model/}: config.json + model.safetensors,
 * or {@code adapter/}: a PEFT adapter), {@code optimizer.safetensors} (AdamW moments and step),
 * {@code trainer_state.json} (step, data position, seeds) and {@code train.conf} (the resolved configuration).
 * A checkpoint is written into a temporary directory and renamed into place; then {@code checkpoints/latest}
 * (the directory's name) is replaced atomically. A crash at any point leaves the previous checkpoint intact.
 *
 * <p>{@code model/} is written as transformers loads it (by default in the source checkpoint's type, with its
 * tokenizer files and generation config: {@link ModelExport}); the optimizer state, and the weights too whenever
 * {@code model/} is narrower, are stored in the training precision (F32 or F64) so that resuming is exact.
 */
public final class CheckpointStore {
    public static final String LATEST = "latest";
    public static final String MODEL_DIR = "model";
    public static final String ADAPTER_DIR = "adapter";
    public static final String OPTIMIZER_FILE = "optimizer.safetensors";
    public static final String CONFIG_FILE = "train.conf";

    private final Path root;
    private final int keep;

    /** @param keep the newest checkpoints to keep after each save (0 = all) */
    public CheckpointStore(Path output, int keep) {
        this.root = output.resolve("checkpoints");
        this.keep = keep;
    }

    public static String directoryName(long step) {
        return String.format(Locale.ROOT, "step-%06d", step);
    }

    /**
     * Writes a checkpoint.
     *
     * @param lora      the adapter's configuration, or null for full fine-tuning
     * @param trainable the model's trainable tensors by checkpoint name
     */
    public Path save(TrainerState state, LlamaConfig config, LoraConfig lora, String baseModel,
                     Map<String, INDArray> trainable, Map<String, INDArray> optimizerState, DataType dataType,
                     String renderedConfig) {
        return save(state, config, lora, baseModel, trainable, optimizerState, dataType, renderedConfig, ModelExport.DEFAULT);
    }

    /**
     * As above; {@code export} says how {@code model/} is written for transformers (type, shards, tokenizer files).
     */
    public Path save(TrainerState state, LlamaConfig config, LoraConfig lora, String baseModel,
                     Map<String, INDArray> trainable, Map<String, INDArray> optimizerState, DataType dataType,
                     String renderedConfig, ModelExport export) {
        Path dir = root.resolve(directoryName(state.step()));
        AtomicFiles.writeDirectory(dir, tmp -> {
            if (lora == null) {
                TrainedModelFiles.write(tmp, MODEL_DIR, config, trainable, dataType, export);
            } else {
                Path adapter = tmp.resolve(ADAPTER_DIR);
                PeftAdapter.save(adapter, lora, trainable, baseModel);
                HfModelWriter.copyTokenizerFiles(export.tokenizerDir(), adapter);
                if (dataType != DataType.FLOAT) {
                    // PeftAdapter.save stores float32; an exact resume of a float64 run needs the full precision
                    // (PEFT reads F64 tensors just as well)
                    SafeTensors.write(adapter.resolve(PeftAdapter.WEIGHTS_FILE), trainable, Map.of("format", "pt"), dataType);
                }
            }
            SafeTensors.write(tmp.resolve(OPTIMIZER_FILE), optimizerState, Map.of("format", "pt"), dataType);
            AtomicFiles.writeString(tmp.resolve(TrainerState.FILE_NAME), state.toJson());
            AtomicFiles.writeString(tmp.resolve(CONFIG_FILE), renderedConfig);
        });
        AtomicFiles.writeString(root.resolve(LATEST), dir.getFileName() + "\n");
        prune();
        return dir;
    }

    /** The checkpoint {@code latest} names, if any; a pointer to a missing directory is an error. */
    public Optional<Path> latest() {
        Path pointer = root.resolve(LATEST);
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        String name;
        try {
            name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pointer + ": " + e.getMessage(), e);
        }
        Path dir = root.resolve(name).normalize();
        if (name.isEmpty() || !dir.getParent().equals(root.normalize())
                || !Files.isRegularFile(dir.resolve(TrainerState.FILE_NAME))) {
            throw new IllegalArgumentException(pointer + " names checkpoint '" + name + "', which is not a complete "
                    + "checkpoint in " + root + ": write the name of an existing step-NNNNNN directory into it, "
                    + "or delete it to start from scratch");
        }
        return Optional.of(dir);
    }

    public static TrainerState readState(Path checkpoint) {
        Path file = checkpoint.resolve(TrainerState.FILE_NAME);
        try {
            return TrainerState.fromJson(Files.readString(file, StandardCharsets.UTF_8), file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    public static Map<String, INDArray> readOptimizerState(Path checkpoint, DataType dataType) {
        return SafeTensors.read(checkpoint.resolve(OPTIMIZER_FILE), dataType);
    }

    /** Deletes all but the newest {@code keep} step directories (never the one {@code latest} names). */
    private void prune() {
        if (keep == 0) {
            return;
        }
        List<Path> steps = new ArrayList<>();
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> Files.isDirectory(p) && p.getFileName().toString().matches("step-\\d{6,}"))
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))))
                    .forEach(steps::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        for (int i = 0; i < steps.size() - keep; i++) {
            deleteRecursively(steps.get(i));
        }
    }

    private static void deleteRecursively(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete old checkpoint " + dir + ": " + e.getMessage(), e);
        }
    }
}
