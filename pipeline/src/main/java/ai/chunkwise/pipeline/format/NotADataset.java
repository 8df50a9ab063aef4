package ai.chunkwise.pipeline.format;

import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The error for a directory that was given as a dataset but holds no {@code manifest.json}: it says what the
 * directory looks like instead (empty, a tokenize job that did not finish, a training run's output, a checkpoint,
 * a model, a folder of documents) and what was expected. Only a dataset the tokenize job left unfinished gets
 * "re-run the tokenize job" advice; nothing here ever advises deleting a directory that is not a damaged dataset.
 */
final class NotADataset {
    /** What a dataset directory holds: tokenize-job's --output. */
    static final String EXPECTED = "a dataset directory (what tokenize-job writes to its --output: manifest.json and "
            + "vNNNN/shard-*.arrow)";

    private static final Pattern STEP_DIR = Pattern.compile("step-\\d{6,}");
    private static final Pattern SHARD = Pattern.compile("shard-\\d{5,}\\.arrow");
    /** Names tokenize-job writes before its manifest (DatasetLayout in tokenize-job). */
    private static final Set<String> DATASET_LEFTOVERS = Set.of("_chunkwise_tmp", "manifest.json.tmp",
            DatasetVersion.VERSIONS_DIR, "_SUCCESS");
    private static final Set<String> DOCUMENT_SUFFIXES = Set.of(".txt", ".text", ".md", ".jsonl", ".json", ".parquet",
            ".gz", ".bz2", ".zst", ".csv", ".tsv", ".html", ".xml", ".lines");

    private NotADataset() {
    }

    /** The message for {@code dir} (an existing directory without manifest.json). */
    static String message(FileSystem fs, Path dir) {
        String shown = DatasetLocation.display(dir);
        List<FileStatus> children;
        try {
            children = List.of(fs.listStatus(dir));
        } catch (IOException e) {
            return "dataset " + shown + " has no " + Manifest.FILE_NAME + " and cannot be listed (" + e.getMessage()
                    + "); expected " + EXPECTED;
        }
        List<String> names = new ArrayList<>();
        children.forEach(c -> names.add(c.getPath().getName() + (c.isDirectory() ? "/" : "")));
        names.sort(null);
        String head = shown + " is not a dataset (no " + Manifest.FILE_NAME + "): ";
        if (children.isEmpty()) {
            return head + "it is an empty directory. Expected " + EXPECTED
                    + "; pass the directory tokenize-job wrote, or run tokenize-job with --output " + shown;
        }
        if (has(names, "checkpoints/") || has(names, "metrics.jsonl") || has(names, "report.json")) {
            return head + "it is a training run's output directory (it holds " + listed(names, "checkpoints/",
                    "metrics.jsonl", "report.json") + "). Expected " + EXPECTED + "; pass the dataset the run was "
                    + "trained on (train.data.dataset in the run's checkpoints/step-NNNNNN/train.conf)";
        }
        if (names.stream().anyMatch(n -> n.endsWith("/") && STEP_DIR.matcher(n.substring(0, n.length() - 1)).matches())) {
            return head + "it is a training run's checkpoints/ directory (it holds " + String.join(", ", first(names))
                    + "). Expected " + EXPECTED + "; pass the dataset the run was trained on (train.data.dataset in "
                    + "a step-NNNNNN/train.conf)";
        }
        if (has(names, "trainer_state.json") || has(names, "optimizer.safetensors")) {
            return head + "it is a training checkpoint (it holds trainer_state.json). Expected " + EXPECTED
                    + "; pass the dataset the run was trained on (train.data.dataset in its train.conf)";
        }
        if (has(names, "config.json") && names.stream().anyMatch(n -> n.endsWith(".safetensors")
                || n.equals("adapter_config.json"))) {
            return head + "it is a model directory (config.json and weights). Expected " + EXPECTED
                    + "; a model goes to --model, the dataset to --dataset";
        }
        if (has(names, "adapter_config.json")) {
            return head + "it is a LoRA adapter (adapter_config.json). Expected " + EXPECTED;
        }
        List<String> leftovers = names.stream().filter(NotADataset::isDatasetLeftover).toList();
        if (!leftovers.isEmpty()) {
            return head + "it holds a dataset that tokenize-job did not finish (" + String.join(", ", first(leftovers))
                    + ": the manifest is written last). Re-run the same tokenize-job command with --output " + shown
                    + "; it removes the leftovers and writes the dataset";
        }
        List<String> documents = names.stream().filter(NotADataset::looksLikeDocument).toList();
        if (!documents.isEmpty() && documents.size() * 2 > names.size()) {
            return head + "it looks like a folder of input documents (" + documents.size() + " file(s): "
                    + String.join(", ", first(documents)) + "). Tokenize it first: tokenize-job --input " + shown
                    + " --output <dataset> ..., then pass <dataset>. Expected " + EXPECTED;
        }
        return head + "it holds " + names.size() + " entr" + (names.size() == 1 ? "y" : "ies") + " ("
                + String.join(", ", first(names)) + ") but no dataset. Expected " + EXPECTED + "; check the path";
    }

    /** The message for a path that is a file: a manifest is named by its directory, anything else is wrong. */
    static String fileMessage(Path file) {
        String shown = DatasetLocation.display(file);
        if (file.getName().equals(Manifest.FILE_NAME) && file.getParent() != null) {
            return "dataset " + shown + " is the manifest file; pass its directory, "
                    + DatasetLocation.display(file.getParent()) + " (an older version: <dataset>/versions/vNNNN.json)";
        }
        return "dataset " + shown + " is a file, not a dataset directory. Expected " + EXPECTED + "; check the path";
    }

    private static boolean isDatasetLeftover(String name) {
        String bare = name.endsWith("/") ? name.substring(0, name.length() - 1) : name;
        return DATASET_LEFTOVERS.contains(bare) || SHARD.matcher(bare).matches()
                || name.endsWith("/") && DatasetVersion.numberOf(bare) > 0;
    }

    private static boolean looksLikeDocument(String name) {
        if (name.endsWith("/")) {
            return false;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        return DOCUMENT_SUFFIXES.stream().anyMatch(lower::endsWith) || !lower.contains(".");
    }

    private static boolean has(List<String> names, String name) {
        return names.contains(name);
    }

    private static String listed(List<String> names, String... candidates) {
        List<String> found = new ArrayList<>();
        for (String c : candidates) {
            if (names.contains(c)) {
                found.add(c);
            }
        }
        return String.join(", ", found);
    }

    private static List<String> first(List<String> names) {
        if (names.size() <= 3) {
            return names;
        }
        List<String> l = new ArrayList<>(names.subList(0, 3));
        l.add("...");
        return l;
    }
}
