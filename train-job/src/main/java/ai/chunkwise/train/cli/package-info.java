/**
 * The train-job command line ({@link ai.chunkwise.train.cli.TrainCli}, picocli): {@code grad} writes the loss
 * and the gradients of one batch as safetensors with Hugging Face names and prints one JSON summary line.
 * Run with OMP_NUM_THREADS set (1 on a 2-core machine): ND4J reads it once, when it loads.
 */
package ai.chunkwise.train.cli;
