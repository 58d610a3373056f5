"""The lecture's models.

gaussian        GaussianClassifier: Bayes' theorem with Gaussian class-conditionals
naive_bayes     BernoulliNB (binary pixels) and GaussianNB (the diagonal GaussianClassifier)
markov          MarkovChain
hmm_algorithms  forward, backward, posteriors, Viterbi, Baum-Welch (scaled and log), as plain functions
hmm_scan        ln p(X) and Viterbi of one long sequence by chunks (the same answers, T / chunks steps)
hmm             CategoricalHMM, GaussianHMM (hmmlearn's API)
autoencoder     dense and convolutional autoencoders, denoising, outlier scores
vae             the VAE with hand-written reparameterization and KL gradients
gan             DCGAN generator and discriminator, the three losses, the gradient penalty, the trainer
gan_checkpoint  GANTrainer's checkpoints and exact resume
classifier      the small CNN for digits
judge           classifier score and Frechet distance of generated digits
"""
