package ai.chunkwise.faults;

import ai.chunkwise.pipeline.format.DatasetException;
import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.pipeline.format.Manifest;
import ai.chunkwise.train.checkpoint.CheckpointChecksums;
import ai.chunkwise.train.model.LoraConfig;
import ai.chunkwise.train.checkpoint.PeftAdapter;
import ai.chunkwise.train.checkpoint.SafeTensors;
import ai.chunkwise.train.data.DataPosition;
import ai.chunkwise.train.loop.CheckpointStore;
import ai.chunkwise.train.loop.RandomInit;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.TrainerState;
import ai.chunkwise.train.model.LlamaConfig;
import ai.chunkwise.train.memory.MemoryEstimate;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigException;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * Seeded hostile inputs (mutations of valid safetensors files, model configs, train configs, PEFT adapters,
 * dataset manifests, shards and checkpoints), each handed to the code that reads it. An input is
 * <em>rejected with a clear error</em> when the reader throws one of the project's user-error exceptions whose
 * one-line message names the file (or config key); <em>rejected unclearly</em> when it throws such an exception
 * without naming it; <em>crashed</em> on any other exception, an Error, or no answer within 60 s; and
 * <em>accepted</em> when it reads the input without complaint (legitimate for a mutation that keeps the input valid,
 * e.g. a changed weight value).
 */
final class HostileInputs {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Object[] HOSTILE_VALUES = {-1, 0, 1_000_000_000, 2147483647, 4294967296L, -2147483648, 1.5,
            "abc", "", null, true, "NaN", 1e308, List.of(), Map.of()};

    private final Path work;
    private final SplittableRandom random;
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "hostile-input");
        t.setDaemon(true);
        return t;
    });

    HostileInputs(Path work, long seed) {
        this.work = work;
        this.random = new SplittableRandom(seed);
    }

    /** A reader of one input; {@code names} are the strings a clear message names (file name, key). */
    @FunctionalInterface
    interface Reader {
        void read() throws Exception;
    }

    /** {@code perKind} inputs of each of the 7 kinds. */
    List<Tally> run(int perKind) {
        List<Tally> tallies = new ArrayList<>();
        try {
            tallies.add(safetensors(perKind));
            tallies.add(modelConfigs(perKind));
            tallies.add(trainConfigs(perKind));
            tallies.add(adapters(perKind));
            tallies.add(manifests(perKind));
            tallies.add(shards(perKind));
            tallies.add(checkpoints(perKind));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            runner.shutdownNow();
        }
        return tallies;
    }

    private void classify(Tally t, String label, Reader reader, String... names) {
        t.trials++;
        Future<?> f = runner.submit(() -> {
            reader.read();
            return null;
        });
        Throwable thrown;
        try {
            f.get(60, TimeUnit.SECONDS);
            t.accepted++;
            t.note(label + ": accepted");
            return;
        } catch (TimeoutException e) {
            f.cancel(true);
            t.crashed++;
            t.note(label + ": no answer within 60 s");
            return;
        } catch (java.util.concurrent.ExecutionException e) {
            thrown = e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        boolean userError = thrown instanceof IllegalArgumentException || thrown instanceof UncheckedIOException
                || thrown instanceof DatasetException || isConfigException(thrown)
                || thrown instanceof IOException;
        if (!userError) {
            t.crashed++;
            t.note(label + ": " + thrown);
            return;
        }
        String m = String.valueOf(thrown.getMessage());
        boolean named = false;
        for (String n : names) {
            named |= m.contains(n);
        }
        if (named && !m.contains("\n") && thrown.getMessage() != null) {
            t.rejectedClearly++;
        } else {
            t.rejectedUnclearly++;
            t.note(label + ": " + m);
        }
    }

    /**
     * By name as well as by class: train-job.jar carries Typesafe Config relocated (ai.chunkwise.shaded...), so an
     * error of its configuration code (UnknownConfigKeyException) is not an instance of this class path's
     * ConfigException.
     */
    private static boolean isConfigException(Throwable t) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c == ConfigException.class || c.getSimpleName().equals("ConfigException")) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- safetensors

    private Tally safetensors(int n) throws IOException {
        Tally t = new Tally("hostile safetensors");
        Path dir = Files.createDirectories(work.resolve("hostile-safetensors"));
        Path valid = dir.resolve("valid.safetensors");
        Map<String, INDArray> tensors = new LinkedHashMap<>(RandomInit.weights(Fixtures.tinyByteModel(), 1, 0.02, DataType.FLOAT));
        SafeTensors.write(valid, tensors, Map.of("format", "pt"), DataType.FLOAT);
        byte[] base = Files.readAllBytes(valid);
        int headerLen = (int) (base[0] & 0xff | (base[1] & 0xff) << 8 | (base[2] & 0xff) << 16);
        String header = new String(base, 8, headerLen, StandardCharsets.UTF_8);
        for (int i = 0; i < n; i++) {
            byte[] b = base.clone();
            String what;
            switch (i % 6) {
                case 0 -> {
                    int len = random.nextInt(base.length);
                    b = java.util.Arrays.copyOf(base, len);
                    what = "truncated to " + len + " bytes";
                }
                case 1 -> {
                    int pos = 8 + random.nextInt(headerLen);
                    b[pos] = (byte) random.nextInt(256);
                    what = "header byte " + pos + " changed";
                }
                case 2 -> {
                    long len = new long[] {-1L, 1L << 40, 0, headerLen + 1L, base.length}[random.nextInt(5)];
                    for (int k = 0; k < 8; k++) {
                        b[k] = (byte) (len >>> (8 * k));
                    }
                    what = "header length " + len;
                }
                case 3 -> {
                    String h = mutateHeader(header);
                    b = withHeader(h, java.util.Arrays.copyOfRange(base, 8 + headerLen, base.length));
                    what = "header JSON " + abbreviate(h);
                }
                case 4 -> {
                    b = new byte[random.nextInt(64)];
                    for (int k = 0; k < b.length; k++) {
                        b[k] = (byte) random.nextInt(256);
                    }
                    what = "random bytes";
                }
                default -> {
                    int pos = 8 + headerLen + random.nextInt(base.length - 8 - headerLen);
                    b[pos] ^= (byte) (1 + random.nextInt(255));
                    what = "data byte " + pos + " changed (still a valid file)";
                }
            }
            Path f = dir.resolve("case-" + i + ".safetensors");
            Files.write(f, b);
            classify(t, f.getFileName() + " (" + what + ")", () -> SafeTensors.read(f, DataType.FLOAT), f.toString(),
                    f.getFileName().toString());
        }
        return t;
    }

    private String mutateHeader(String header) {
        try {
            ObjectNode h = (ObjectNode) JSON.readTree(header);
            List<String> names = new ArrayList<>();
            h.fieldNames().forEachRemaining(names::add);
            names.remove("__metadata__");
            ObjectNode e = (ObjectNode) h.get(names.get(random.nextInt(names.size())));
            switch (random.nextInt(5)) {
                case 0 -> e.put("dtype", new String[] {"F99", "I64", "", "BOOL"}[random.nextInt(4)]);
                case 1 -> ((ArrayNode) e.get("shape")).set(0, JSON.getNodeFactory().numberNode(
                        new long[] {-1, 0, 1L << 40, 3}[random.nextInt(4)]));
                case 2 -> {
                    ArrayNode o = (ArrayNode) e.get("data_offsets");
                    long a = o.get(0).asLong();
                    long b = o.get(1).asLong();
                    o.set(0, JSON.getNodeFactory().numberNode(b));
                    o.set(1, JSON.getNodeFactory().numberNode(a));
                }
                case 3 -> ((ArrayNode) e.get("data_offsets")).set(1, JSON.getNodeFactory().numberNode(Long.MAX_VALUE));
                default -> e.remove(new String[] {"dtype", "shape", "data_offsets"}[random.nextInt(3)]);
            }
            return h.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static byte[] withHeader(String header, byte[] data) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        byte[] b = new byte[8 + h.length + data.length];
        long len = h.length;
        for (int k = 0; k < 8; k++) {
            b[k] = (byte) (len >>> (8 * k));
        }
        System.arraycopy(h, 0, b, 8, h.length);
        System.arraycopy(data, 0, b, 8 + h.length, data.length);
        return b;
    }

    // ---------------------------------------------------------------- config.json

    private Tally modelConfigs(int n) throws IOException {
        Tally t = new Tally("hostile model config.json");
        Path dir = Files.createDirectories(work.resolve("hostile-configs"));
        Path valid = Fixtures.modelConfig(dir.resolve("valid.json"));
        ObjectNode base = (ObjectNode) JSON.readTree(valid.toFile());
        List<String> keys = new ArrayList<>();
        base.fieldNames().forEachRemaining(keys::add);
        for (int i = 0; i < n; i++) {
            Path f = dir.resolve("case-" + i + ".json");
            String what;
            if (i % 10 == 9) {
                String text = base.toString();
                Files.writeString(f, text.substring(0, random.nextInt(text.length())));
                what = "cut short";
            } else {
                ObjectNode c = base.deepCopy();
                String key = keys.get(random.nextInt(keys.size()));
                if (i % 5 == 4) {
                    c.remove(key);
                    what = key + " removed";
                } else {
                    Object v = HOSTILE_VALUES[random.nextInt(HOSTILE_VALUES.length)];
                    c.set(key, JSON.valueToTree(v));
                    what = key + " = " + v;
                }
                Files.writeString(f, c.toString());
            }
            classify(t, f.getFileName() + " (" + what + ")", () -> {
                LlamaConfig cfg = LlamaConfig.fromJson(f);
                MemoryEstimate.requireWeights(f.toString(), cfg, 4, MemoryEstimate.availableBytes());
            }, f.toString());
        }
        return t;
    }

    // ---------------------------------------------------------------- train.conf

    private Tally trainConfigs(int n) throws IOException {
        Tally t = new Tally("hostile train.conf");
        Path dir = Files.createDirectories(work.resolve("hostile-train-conf"));
        String[] keys = {"train.batch-size", "train.steps", "train.accumulation-steps", "train.optimizer.lr",
                "train.method.name", "train.method.chunk-size", "train.keep-checkpoints", "train.model.dtype",
                "train.lora.rank", "train.max-nonfinite-steps", "train.optimizer.max-grad-norm", "train.data.seed",
                "train.method.budget", "train.no-such-key", "train.log-every"};
        String[] values = {"-1", "0", "2.7", "\"abc\"", "1e400", "9223372036854775808", "[]", "{}", "null", "4294967297"};
        for (int i = 0; i < n; i++) {
            String key = keys[random.nextInt(keys.length)];
            String value = values[random.nextInt(values.length)];
            Path f = dir.resolve("case-" + i + ".conf");
            Files.writeString(f, "train.data.dataset = \"/nonexistent\"\ntrain.model.init-config = \"x.json\"\n"
                    + key + " = " + value + "\n");
            classify(t, key + " = " + value, () -> TrainSettings.load(f, Map.of()), key, f.toString());
        }
        return t;
    }

    // ---------------------------------------------------------------- PEFT adapters

    private Tally adapters(int n) throws IOException {
        Tally t = new Tally("hostile PEFT adapters");
        Path valid = work.resolve("hostile-adapters/valid");
        LoraConfig lora = new LoraConfig(2, 4, List.of("q_proj", "v_proj"));
        PeftAdapter a = PeftAdapter.init(Fixtures.tinyByteModel(), lora, 1, DataType.FLOAT);
        PeftAdapter.save(valid, lora, a.tensors(), "base");
        ObjectNode base = (ObjectNode) JSON.readTree(valid.resolve(PeftAdapter.CONFIG_FILE).toFile());
        List<String> keys = new ArrayList<>();
        base.fieldNames().forEachRemaining(keys::add);
        for (int i = 0; i < n; i++) {
            Path d = work.resolve("hostile-adapters/case-" + i);
            Fixtures.copyTree(valid, d);
            String what;
            if (i % 3 == 2) {
                Path w = d.resolve(PeftAdapter.WEIGHTS_FILE);
                byte[] b = Files.readAllBytes(w);
                Files.write(w, java.util.Arrays.copyOf(b, random.nextInt(b.length)));
                what = "weights truncated";
            } else {
                ObjectNode c = base.deepCopy();
                String key = keys.get(random.nextInt(keys.size()));
                Object v = i % 3 == 1 ? List.of("no_such_proj") : HOSTILE_VALUES[random.nextInt(HOSTILE_VALUES.length)];
                c.set(key, JSON.valueToTree(v));
                Files.writeString(d.resolve(PeftAdapter.CONFIG_FILE), c.toString());
                what = key + " = " + v;
            }
            classify(t, "adapter " + i + " (" + what + ")", () -> PeftAdapter.load(d, DataType.FLOAT), d.toString(),
                    PeftAdapter.CONFIG_FILE, PeftAdapter.WEIGHTS_FILE);
        }
        return t;
    }

    // ---------------------------------------------------------------- manifests and shards

    private Tally manifests(int n) throws IOException {
        Tally t = new Tally("hostile dataset manifests");
        Path valid = work.resolve("hostile-ds/valid");
        Fixtures.dataset(valid, 40, 5);
        ObjectNode base = (ObjectNode) JSON.readTree(valid.resolve(Manifest.FILE_NAME).toFile());
        List<String> paths = leafPaths(base, "");
        for (int i = 0; i < n; i++) {
            Path d = work.resolve("hostile-ds/manifest-" + i);
            Fixtures.copyTree(valid, d);
            String what;
            if (i % 8 == 7) {
                String text = base.toString();
                Files.writeString(d.resolve(Manifest.FILE_NAME), text.substring(0, random.nextInt(text.length())));
                what = "cut short";
            } else {
                ObjectNode m = base.deepCopy();
                String p = paths.get(random.nextInt(paths.size()));
                Object v = i % 4 == 3 ? "../../etc/passwd" : HOSTILE_VALUES[random.nextInt(HOSTILE_VALUES.length)];
                setAt(m, p, v);
                Files.writeString(d.resolve(Manifest.FILE_NAME), m.toString());
                what = p + " = " + v;
            }
            classify(t, "manifest " + i + " (" + what + ")", () -> DatasetInspector.summaryJson(d), d.toString());
        }
        return t;
    }

    private Tally shards(int n) throws IOException {
        Tally t = new Tally("hostile shards");
        Path valid = work.resolve("hostile-ds/valid");
        for (int i = 0; i < n; i++) {
            Path d = work.resolve("hostile-ds/shard-" + i);
            Fixtures.copyTree(valid, d);
            ObjectNode m = (ObjectNode) JSON.readTree(d.resolve(Manifest.FILE_NAME).toFile());
            ArrayNode shards = (ArrayNode) m.get("shards");
            int s = random.nextInt(shards.size());
            ObjectNode entry = (ObjectNode) shards.get(s);
            Path shard = d.resolve(entry.get("path").asText());
            byte[] b = Files.readAllBytes(shard);
            String what;
            switch (i % 3) {
                case 0 -> {
                    b = java.util.Arrays.copyOf(b, random.nextInt(b.length));
                    what = "truncated";
                }
                case 1 -> {
                    for (int k = 0; k < 4; k++) {
                        b[random.nextInt(b.length)] = (byte) random.nextInt(256);
                    }
                    what = "4 bytes changed";
                }
                default -> {
                    int pos = random.nextInt(b.length);
                    b[pos] = (byte) 0xff;
                    what = "byte " + pos + " = 0xff";
                }
            }
            Files.write(shard, b);
            if (i % 2 == 0) {
                // the manifest re-written to match: only the content checks can catch it
                entry.put("bytes", b.length);
                entry.put("sha256", CheckpointChecksums.sha256(shard));
                Files.writeString(d.resolve(Manifest.FILE_NAME), m.toString());
                what += ", manifest updated to match";
            }
            classify(t, "shard " + i + " (" + what + ")", () -> DatasetInspector.summaryJson(d), d.toString(),
                    shard.getFileName().toString());
        }
        return t;
    }

    private static List<String> leafPaths(com.fasterxml.jackson.databind.JsonNode node, String prefix) {
        List<String> out = new ArrayList<>();
        if (node.isObject()) {
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                out.addAll(leafPaths(node.get(k), prefix.isEmpty() ? k : prefix + "/" + k));
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) {
                out.addAll(leafPaths(node.get(i), prefix + "/" + i));
            }
        } else {
            out.add(prefix);
        }
        return out;
    }

    private static void setAt(ObjectNode root, String path, Object value) {
        String[] parts = path.split("/");
        com.fasterxml.jackson.databind.JsonNode node = root;
        for (int i = 0; i < parts.length - 1; i++) {
            node = node.isArray() ? node.get(Integer.parseInt(parts[i])) : node.get(parts[i]);
        }
        String last = parts[parts.length - 1];
        if (node.isArray()) {
            ((ArrayNode) node).set(Integer.parseInt(last), JSON.valueToTree(value));
        } else {
            ((ObjectNode) node).set(last, JSON.valueToTree(value));
        }
    }

    // ---------------------------------------------------------------- checkpoints

    private Tally checkpoints(int n) throws IOException {
        Tally t = new Tally("hostile checkpoints");
        Path valid = work.resolve("hostile-ckpt/valid");
        CheckpointStore store = new CheckpointStore(valid, 0);
        Map<String, INDArray> weights = RandomInit.weights(Fixtures.tinyByteModel(), 1, 0.02, DataType.FLOAT);
        Map<String, INDArray> opt = new LinkedHashMap<>();
        weights.forEach((k, v) -> opt.put("exp_avg." + k, v.mul(0.1)));
        store.save(new TrainerState(1, DataPosition.start(1), 0, 0, 0, 0, 0), Fixtures.tinyByteModel(), null, null, weights,
                opt, DataType.FLOAT, "train {}\n", ai.chunkwise.train.checkpoint.ModelExport.DEFAULT, true, 1.0, null);
        Path step = valid.resolve("checkpoints/step-000001");
        List<Path> files;
        try (Stream<Path> w = Files.walk(step)) {
            files = w.filter(Files::isRegularFile).toList();
        }
        for (int i = 0; i < n; i++) {
            Path d = work.resolve("hostile-ckpt/case-" + i);
            Fixtures.copyTree(valid, d);
            Path target = d.resolve(valid.relativize(files.get(random.nextInt(files.size()))).toString());
            String what;
            switch (i % 4) {
                case 0 -> {
                    byte[] b = Files.readAllBytes(target);
                    Files.write(target, java.util.Arrays.copyOf(b, b.length == 0 ? 0 : random.nextInt(b.length)));
                    what = target.getFileName() + " truncated";
                }
                case 1 -> {
                    byte[] b = Files.readAllBytes(target);
                    if (b.length > 0) {
                        b[random.nextInt(b.length)] ^= 0x10;
                    }
                    Files.write(target, b);
                    what = target.getFileName() + " one bit flipped";
                }
                case 2 -> {
                    Files.delete(target);
                    what = target.getFileName() + " deleted";
                }
                default -> {
                    Files.writeString(d.resolve("checkpoints/latest"), new String[] {"../../etc", "step-999999", "",
                            "step-000001/../.."}[random.nextInt(4)]);
                    what = "latest rewritten";
                }
            }
            Path dd = d;
            classify(t, "checkpoint " + i + " (" + what + ")",
                    () -> new CheckpointStore(dd, 0).resumable(DataType.FLOAT, w -> { }).orElseThrow(
                            () -> new IllegalArgumentException("no checkpoint in " + dd)), d.toString());
        }
        return t;
    }

    private static String abbreviate(String s) {
        return s.length() > 60 ? s.substring(0, 60) + "..." : s;
    }
}
