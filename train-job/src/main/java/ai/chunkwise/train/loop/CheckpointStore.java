package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import ai.chunkwise.train.checkpoint.CheckpointChecksums;
import ai.chunkwise.train.checkpoint.CheckpointDamagedException;
import ai.chunkwise.train.checkpoint.HfModelWriter;
import ai.chunkwise.train.checkpoint.ModelExport;
import ai.chunkwise.train.model.LoraConfig;
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
    /** {"finite": true|false, "loss": ...}: whether the step that wrote the checkpoint was a healthy one. */
    public static final String HEALTH_FILE = "health.json";
    private static final java.util.regex.Pattern STEP_DIR = java.util.regex.Pattern.compile("step-\\d{6,}");
    private static final java.util.regex.Pattern ORPHAN = java.util.regex.Pattern.compile(
            "\\.(step-\\d{6,}|latest|metrics\\.jsonl|report\\.json)\\.tmp-\\d+--?\\d+");
    private static final com.fasterxml.jackson.databind.ObjectMapper JSON = new com.fasterxml.jackson.databind.ObjectMapper();

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
     * @param export    how {@code model/} is written for transformers (type, shards, tokenizer files)
     * @param finite    whether the step that ends here was finite (its loss, gradient, weights and moments):
     *                  rotation never deletes the newest finite checkpoint
     */
    public Path save(TrainerState state, LlamaConfig config, LoraConfig lora, String baseModel,
                     Map<String, INDArray> trainable, Map<String, INDArray> optimizerState, DataType dataType,
                     String renderedConfig, ModelExport export, boolean finite, double loss,
                     ai.chunkwise.train.reliability.RunFingerprint fingerprint) {
        Path dir = root.resolve(directoryName(state.step()));
        AtomicFiles.replaceDirectory(dir, tmp -> {
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
            com.fasterxml.jackson.databind.node.ObjectNode health = JSON.createObjectNode().put("finite", finite);
            if (Double.isFinite(loss)) {
                health.put("loss", loss);
            } else {
                health.put("loss", String.valueOf(loss));
            }
            AtomicFiles.writeString(tmp.resolve(HEALTH_FILE), health.toString() + "\n");
            if (fingerprint != null) {
                fingerprint.write(tmp);
            }
            CheckpointChecksums.write(tmp);   // last: it covers every file above, shards and tokenizer files included
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

    /**
     * Deletes all but the newest {@code keep} step directories, never the one {@code latest} names and never the
     * newest finite one (a run that went non-finite keeps its last good state, however many checkpoints follow).
     */
    private void prune() {
        if (keep == 0) {
            return;
        }
        List<Path> steps = stepDirectories();
        Path newestFinite = null;
        for (Path p : steps) {
            if (isFinite(p)) {
                newestFinite = p;
            }
        }
        Path latest = latestName().map(root::resolve).orElse(null);
        for (int i = 0; i < steps.size() - keep; i++) {
            Path p = steps.get(i);
            if (!p.equals(newestFinite) && !p.equals(latest)) {
                deleteRecursively(p);
            }
        }
    }

    /** Step directories in step order (oldest first). */
    public List<Path> stepDirectories() {
        List<Path> steps = new ArrayList<>();
        if (!Files.isDirectory(root)) {
            return steps;
        }
        try (Stream<Path> list = Files.list(root)) {
            list.filter(p -> Files.isDirectory(p) && STEP_DIR.matcher(p.getFileName().toString()).matches())
                    .sorted(Comparator.comparingLong(p -> Long.parseLong(p.getFileName().toString().substring(5))))
                    .forEach(steps::add);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + root + ": " + e.getMessage(), e);
        }
        return steps;
    }

    /** Whether a checkpoint was written after a finite step (checkpoints without {@value #HEALTH_FILE} count as finite). */
    public static boolean isFinite(Path checkpoint) {
        Path file = checkpoint.resolve(HEALTH_FILE);
        if (!Files.isRegularFile(file)) {
            return true;
        }
        try {
            return JSON.readTree(file.toFile()).path("finite").asBoolean(false);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Removes the temporary directories and files ({@code .step-NNNNNN.tmp-*}, {@code .latest.tmp-*}) that a
     * killed run left behind. Only call this while holding the output directory's lock: another live run's
     * temporary directory looks exactly the same.
     *
     * @return the removed paths
     */
    public List<Path> removeOrphans() {
        List<Path> removed = new ArrayList<>();
        for (Path dir : List.of(root, root.getParent())) {   // checkpoints/, and the output (metrics, report)
            if (dir == null || !Files.isDirectory(dir)) {
                continue;
            }
            try (Stream<Path> list = Files.list(dir)) {
                for (Path p : list.filter(p -> ORPHAN.matcher(p.getFileName().toString()).matches()).toList()) {
                    deleteRecursively(p);
                    removed.add(p);
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
            }
        }
        return removed;
    }

    /** A checkpoint that passed every check, with what was read from it while checking. */
    public record Resumable(Path directory, TrainerState state, Map<String, INDArray> optimizerState) {
    }

    /**
     * The newest checkpoint that can be trusted: the one {@code latest} names if it verifies (checksums, trainer
     * state, finite optimizer state), else the newest older one that does, with a warning naming each damaged one.
     *
     * @throws IllegalArgumentException if checkpoints exist but none verifies
     */
    public Optional<Resumable> resumable(DataType dataType, java.util.function.Consumer<String> warn) {
        List<Path> candidates = new ArrayList<>();
        Optional<String> latestName = latestName();
        latestName.ifPresent(n -> candidates.add(root.resolve(n).normalize()));
        List<Path> steps = stepDirectories();
        for (int i = steps.size() - 1; i >= 0; i--) {
            if (!candidates.contains(steps.get(i))) {
                candidates.add(steps.get(i));
            }
        }
        if (candidates.isEmpty()) {
            return Optional.empty();
        }
        // after a divergence the newest checkpoints were written by non-finite (skipped) steps: resume from the
        // newest finite one, as the divergence message advises; only if there is none, from the newest at all
        List<Path> finiteFirst = new ArrayList<>(candidates.stream().filter(CheckpointStore::isFinite).toList());
        List<Path> unhealthy = candidates.stream().filter(c -> !isFinite(c)).toList();
        if (!finiteFirst.isEmpty() && !unhealthy.isEmpty() && !isFinite(candidates.get(0))) {
            warn.accept("warning: skipping " + unhealthy.size() + " checkpoint(s) written after non-finite steps ("
                    + unhealthy.stream().map(c -> c.getFileName().toString()).collect(java.util.stream.Collectors
                    .joining(", ")) + ", " + HEALTH_FILE + " says finite: false)");
        }
        finiteFirst.addAll(unhealthy);
        List<String> damaged = new ArrayList<>();
        for (Path c : finiteFirst) {
            try {
                Resumable r = check(c, dataType, warn);
                if (!damaged.isEmpty() || !c.equals(candidates.get(0))) {
                    warn.accept("resuming from " + c.getFileName() + ", the newest " + (isFinite(c) ? "finite " : "")
                            + "checkpoint that verifies");
                }
                return Optional.of(r);
            } catch (IllegalArgumentException | UncheckedIOException e) {
                damaged.add(c.getFileName() + " (" + e.getMessage() + ")");
                warn.accept("warning: skipping checkpoint " + c + ": " + e.getMessage());
            }
        }
        throw new IllegalArgumentException("no checkpoint in " + root + " can be resumed from; every one is damaged: "
                + String.join("; ", damaged) + ". Start a new run in another output directory");
    }

    private static Resumable check(Path c, DataType dataType, java.util.function.Consumer<String> warn) {
        if (!Files.isDirectory(c)) {
            throw new CheckpointDamagedException(c, "the directory does not exist");
        }
        if (CheckpointChecksums.present(c)) {
            CheckpointChecksums.verify(c);
        } else if (Files.exists(c.resolve(HEALTH_FILE))
                || Files.exists(c.resolve(ai.chunkwise.train.reliability.RunFingerprint.FILE_NAME))) {
            // written by this version, which always writes the list: a partial copy (e.g. an S3 rename cut short)
            throw new CheckpointDamagedException(c, CheckpointChecksums.FILE_NAME + " is missing");
        } else {
            warn.accept("warning: checkpoint " + c + " has no " + CheckpointChecksums.FILE_NAME
                    + " (written by an older version): its files cannot be verified");
        }
        if (!Files.isRegularFile(c.resolve(TrainerState.FILE_NAME))) {
            throw new CheckpointDamagedException(c, TrainerState.FILE_NAME + " is missing");
        }
        TrainerState state = readState(c);
        Map<String, INDArray> optimizer;
        try {
            optimizer = readOptimizerState(c, dataType);
        } catch (RuntimeException e) {
            throw new CheckpointDamagedException(c, OPTIMIZER_FILE + " cannot be read: " + e.getMessage());
        }
        Optional<String> bad = ai.chunkwise.train.reliability.FiniteTensors.firstNonFinite(optimizer);
        if (bad.isPresent()) {
            throw new CheckpointDamagedException(c, "optimizer state tensor '" + bad.get()
                    + "' holds NaN or infinite values; resuming from it would poison every weight");
        }
        return new Resumable(c, state, optimizer);
    }

    private Optional<String> latestName() {
        Path pointer = root.resolve(LATEST);
        if (!Files.isRegularFile(pointer)) {
            return Optional.empty();
        }
        try {
            String name = Files.readString(pointer, StandardCharsets.UTF_8).trim();
            return STEP_DIR.matcher(name).matches() ? Optional.of(name) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
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
