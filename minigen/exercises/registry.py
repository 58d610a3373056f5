"""The exercises: for each, the piece of minigen a student rewrites and the checks it must pass.

An ``Exercise`` names its reference by where it lives (``owner``, a module or a class, and
``attr``), so that the student's version can be put in its place; ``reference`` is the
original object, taken when this module is imported.
"""
from dataclasses import dataclass, field

from minigen import autograd
from minigen.exercises import checks_engine as E
from minigen.exercises import checks_gan as GAN
from minigen.exercises import checks_mixture as G
from minigen.exercises import checks_models as M
from minigen.models import gan, hmm_algorithms, markov, mixture, naive_bayes, vae
from minigen.nn import functional
from minigen.ops import conv, elementwise, linalg, reduce, shape
from minigen.optim import adam


@dataclass(frozen=True)
class Exercise:
    name: str
    topic: str
    difficulty: str        # easy, medium or hard
    owner: object          # the module or class that holds the reference
    attr: str              # its name there
    statement: str         # what to implement, in a few lines
    checks: tuple          # functions check(candidate), raising CheckFailure when wrong
    imports: str = ""      # import lines the student's file starts with
    context: str = ""      # notation the student's file repeats (shapes, conventions)
    reference: object = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "reference", vars(self.owner)[self.attr])

    @property
    def where(self):
        """'Mul.backward in minigen/ops/elementwise.py'."""
        qualified = f"{self.owner.__name__}.{self.attr}" if isinstance(self.owner, type) else self.attr
        return f"{qualified} in {self.reference.__module__.replace('.', '/')}.py"


NP = "import numpy as np\n"
HMM_NOTATION = hmm_algorithms.NOTATION  # the shapes and conventions of minigen/models/hmm_algorithms.py
XP = "from minigen import backend  # xp = backend.array_module(x): NumPy or CuPy\n"
MIXTURE_NOTATION = mixture.NOTATION  # the shapes and covariance types of minigen/models/mixture.py

EXERCISES = [
    Exercise("mul_backward", "autograd", "easy", elementwise.Mul, "backward",
             "The backward of z = x * y (broadcasting): return (dL/dx, dL/dy) from gy = dL/dz. "
             "self.inputs holds (x, y); each gradient must have its input's shape (sum_to).",
             (E.mul_same_shapes, E.mul_broadcasting, E.mul_second_order),
             "from minigen.ops.shape import sum_to\n"),
    Exercise("matmul_backward", "autograd", "medium", linalg.MatMul, "backward",
             "The backward of C = A @ B with NumPy's rules (batched, broadcast batch dims, 1-D operands): "
             "dL/dA = gy @ B^T and dL/dB = A^T @ gy, each summed back to its operand's shape. "
             "Return None for an input whose self.needs_input_grad is False.",
             (E.matmul_matrices, E.matmul_batched, E.matmul_vectors, E.matmul_second_order),
             "from minigen.ops.shape import reshape, sum_to, transpose, unsqueeze\n"),
    Exercise("sum_to", "autograd", "easy", shape, "sum_to",
             "The adjoint of broadcasting: sum x over the dims that broadcasting added to get from `shape` to "
             "x.shape (the leading dims, and the dims where `shape` has size 1), giving a tensor of `shape`. "
             "Use Tensor ops (x.sum(axis=..., keepdims=True), x.reshape(...)), so gradients flow through it.",
             (E.sum_to_values, E.sum_to_gradients)),
    Exercise("topological_order", "autograd", "medium", autograd, "topological_order",
             "The order in which backward visits the graph: every Function node reachable from `roots` "
             "(a set of nodes) once, each before the nodes that made its inputs (fn.inputs[k].grad_fn). "
             "Graphs can be 100,000 nodes deep: no recursion.",
             (E.topological_properties, E.topological_gradients, E.topological_deep_chain)),
    Exercise("log_softmax", "autograd", "easy", reduce.LogSoftmax, "forward",
             "The forward of log_softmax on a raw array x along `dim`: x - ln sum_j exp(x_j), without overflow "
             "for large x. Store `self.dim = dim`: the backward reads it.",
             (E.log_softmax_values, E.log_softmax_stable, E.log_softmax_gradients), XP),
    Exercise("im2col", "convolution", "hard", conv.Im2Col, "forward",
             "Unfold every kernel position of an image x (N, C, H, W) into a column: return cols "
             "(C*kH*kW, Ho*Wo*N) with cols[(c kH + i) kW + j, (y Wo + x) N + n] = x[n, c, y sh + i dh, x sw + j dw] "
             "(the batch last, so that copies run over N contiguous numbers), "
             "geometry = ((kH, kW), (sh, sw), (dh, dw), (Ho, Wo)). Store self.image_shape = x.shape and "
             "self.geometry = geometry (the backward needs them). Loops over (i, j) are fine.",
             (E.im2col_values, E.im2col_gradients), XP),
    Exercise("col2im", "convolution", "hard", conv.Col2Im, "forward",
             "The adjoint of im2col, which is conv2d's backward with respect to its input: put every entry of "
             "cols (C*kH*kW, Ho*Wo*N) back on the pixel im2col took it from, summing where windows overlap. "
             "Return an image of image_shape (N, C, H, W); store self.geometry = geometry.",
             (E.col2im_values, E.col2im_adjoint, E.col2im_gradients), XP),
    Exercise("batch_norm", "layers", "medium", functional, "batch_norm",
             "Batch normalization with Tensor ops (so gradients come for free): in training mode normalize "
             "each channel (dim 1) with the batch mean and biased variance over every other dim, and move the "
             "running statistics (in place, on .data) towards the batch's, the variance unbiased; in eval "
             "mode use the running statistics. Validating the arguments is optional.",
             (E.batch_norm_training, E.batch_norm_eval, E.batch_norm_gradients),
             "from minigen.ops import mean, reshape, sqrt, var\n"),
    Exercise("adam_step", "optimization", "medium", adam.Adam, "update",
             "One Adam step for one parameter, in place on raw arrays: p (the parameter's array), g (its "
             "gradient), state (a dict kept between steps, empty at first), group (lr, betas, eps, "
             "weight_decay, amsgrad, decoupled_weight_decay), following the docstring of Adam.",
             (E.adam_first_step, E.adam_many_steps), XP),
    Exercise("markov_mle", "Markov chains", "easy", markov, "markov_mle",
             "Maximum likelihood of a Markov chain: count the first states and the i -> j steps of the "
             "sequences and normalize (add the pseudocount to every count first).",
             (M.markov_by_hand, M.markov_random, M.markov_never_left), NP),
    Exercise("bernoulli_nb_log_posterior", "naive Bayes", "easy", naive_bayes, "bernoulli_nb_log_posterior",
             "The posterior of naive Bayes with Bernoulli pixels: a_k = sum_i [x_i ln p_ki + (1 - x_i) ln(1 - p_ki)] "
             "+ ln p(C_k), then ln p(C_k | x) = a_k - ln sum_j exp(a_j), without underflow for 784 pixels.",
             (M.bernoulli_nb_by_hand, M.bernoulli_nb_normalized, M.bernoulli_nb_stable), NP + XP),
    Exercise("hmm_forward", "hidden Markov models", "medium", hmm_algorithms, "forward_scaled",
             "The scaled forward pass on a batch of padded sequences: alpha_hat_n = p(z_n | x_1..x_n) and "
             "c_n = p(x_n | x_1..x_{n-1}), so ln p(X) = sum_n ln c_n. transmat[i, j] = p(z_n = j | z_{n-1} = i).",
             (M.hmm_forward_likelihood, M.hmm_forward_alpha, M.hmm_forward_padding),
             NP + XP, context=HMM_NOTATION),
    Exercise("hmm_backward", "hidden Markov models", "medium", hmm_algorithms, "backward_scaled",
             "The scaled backward pass: beta_hat_T = 1, beta_hat_n = transmat @ (B_{n+1} * beta_hat_{n+1}) / c_{n+1}, "
             "1 on padding steps; then alpha_hat * beta_hat = p(z_n | X).",
             (M.hmm_backward_brute_force, M.hmm_backward_posteriors, M.hmm_backward_padding),
             NP + XP, context=HMM_NOTATION),
    Exercise("viterbi", "hidden Markov models", "medium", hmm_algorithms, "viterbi_scaled",
             "Viterbi: the largest ln p(X, Z) over state paths Z and a path that reaches it, by dynamic "
             "programming with back pointers, then a backtrack; -1 on padding steps. The inputs are "
             "probabilities: keep delta from underflowing by working in logs (ln of the inputs) or by dividing "
             "delta by its maximum d_n each step (then ln max_Z p(X, Z) = sum_n ln d_n).",
             (M.viterbi_max, M.viterbi_path, M.viterbi_padding),
             NP + XP, context=HMM_NOTATION),
    Exercise("baum_welch_m_step", "hidden Markov models", "easy", hmm_algorithms, "m_step",
             "The Baum-Welch M step for pi and transmat from the expected counts of the E step: divide each "
             "by its row sum; a row without counts keeps its previous value.",
             (M.m_step_values, M.m_step_unvisited, M.m_step_em_increases_likelihood),
             XP, context=HMM_NOTATION),
    Exercise("gmm_e_step", "Gaussian mixtures", "easy", mixture, "e_step",
             "The E step of EM for a Gaussian mixture, in log space: return ln p(x_n) = ln sum_k pi_k N(x_n | mu_k, "
             "Sigma_k) (N,) and the log responsibilities ln gamma(z_nk) = ln pi_k N(x_n | mu_k, Sigma_k) - ln p(x_n) "
             "(N, K). log_gaussian(X, mu, U, covariance_type) gives ln N(x_n | mu_k, Sigma_k) (N, K). Points far "
             "from every component must get finite values.",
             (G.gmm_e_step_by_hand, G.gmm_e_step_far_away),
             XP + "from minigen.models.mixture import log_gaussian\n", context=MIXTURE_NOTATION),
    Exercise("gmm_m_step", "Gaussian mixtures", "medium", mixture, "m_step",
             "The M step of EM for a Gaussian mixture from the responsibilities gamma (N, K): return pi (K,), "
             "mu (K, D) and Sigma in the compact shape of covariance_type, with reg_covar added to every variance "
             "(PRML 9.24-9.27). N_k = sum_n gamma_nk may be 0: add 10 * EPS to it, as minigen does.",
             (G.gmm_m_step_full, G.gmm_m_step_other_types, G.gmm_m_step_em_increases_likelihood),
             XP + "EPS = 2.220446049250313e-16\n", context=MIXTURE_NOTATION),
    Exercise("reparameterize_backward", "variational autoencoders", "easy", vae.Reparameterize, "backward",
             "The backward of z = mu + exp(logvar / 2) * eps (mu, logvar, eps broadcast together): "
             "return dL/dmu, dL/dlogvar, dL/deps from gz, each of its input's shape.",
             (M.reparameterize_same_shapes, M.reparameterize_broadcasting, M.reparameterize_second_order),
             "from minigen.ops import exp\nfrom minigen.ops.shape import sum_to\n"),
    Exercise("gaussian_kl", "variational autoencoders", "easy", vae.GaussianKL, "forward",
             "The forward of KL(N(mu, diag(exp(logvar))) || N(0, I)) on raw arrays mu, logvar (..., L): "
             "one KL per example, summed over the last dim.",
             (M.kl_properties, M.kl_integration, M.kl_gradients), XP),
    Exercise("discriminator_loss", "GANs", "easy", gan, "discriminator_loss",
             "The discriminator's loss from its logits on real and generated images, for the three kinds "
             "(minimax, non_saturating: the same loss; wgan-gp: the critic's), stable for large logits.",
             (GAN.discriminator_loss_values, GAN.discriminator_loss_stable, GAN.discriminator_loss_gradients),
             "from minigen.ops import softplus\n"),
    Exercise("conditional_discriminator_loss", "GANs", "easy", gan, "conditional_discriminator_loss",
             "The class-conditional discriminator's loss: score each real image with its own label and each fake "
             "with the label it was generated for (discriminator(images, labels) -> logits (N, 1)), then the "
             "loss of the kind as in discriminator_loss, stable for large logits. Return (loss, real_logits, "
             "fake_logits).",
             (GAN.conditional_d_loss_values, GAN.conditional_d_loss_stable, GAN.conditional_d_loss_gradients),
             "from minigen.ops import softplus\n"),
    Exercise("gradient_penalty", "GANs", "medium", gan, "gradient_penalty",
             "WGAN-GP's penalty lam * mean_i (||grad critic(xhat_i)||_2 - 1)^2 at points xhat between real and "
             "fake samples, itself differentiable in the critic's weights.",
             (GAN.gradient_penalty_linear, GAN.gradient_penalty_per_sample, GAN.gradient_penalty_differentiable),
             "import minigen\nfrom minigen.creation import rand\n"),
    Exercise("pix2pix_generator_loss", "GANs", "easy", gan, "pix2pix_generator_loss",
             "pix2pix's generator loss L_cGAN + lam L1: D judges the pair (G(x), x) (discriminator(fake, inputs) -> "
             "one logit per patch), l_gan is generator_loss's term of the kind on those logits, l1 the mean over "
             "every pixel of |target - fake|. Return (l_gan + lam * l1, l_gan, l1).",
             (GAN.pix2pix_loss_values, GAN.pix2pix_loss_stable, GAN.pix2pix_loss_gradients),
             "from minigen.models.gan import generator_loss\n"),
]

BY_NAME = {exercise.name: exercise for exercise in EXERCISES}

# the demo whose run uses each exercise (MINIGEN_EXERCISES=NAME python DEMO), None for none; a test runs each
# demo with a blank version of its exercise, which must stop it
DEMOS = {
    **dict.fromkeys(["mul_backward", "matmul_backward", "sum_to", "topological_order", "log_softmax", "im2col",
                     "col2im"], "demos/mnist_classifier.py --quick"),
    "batch_norm": "demos/dcgan_mnist.py --quick",
    "markov_mle": "demos/markov_weather.py",
    "bernoulli_nb_log_posterior": None,  # no demo uses BernoulliNB yet
    **dict.fromkeys(["gmm_e_step", "gmm_m_step"], "demos/generative_ladder.py --quick"),
    **dict.fromkeys(["hmm_forward", "hmm_backward", "viterbi", "baum_welch_m_step"], "demos/hmm_pen_digits.py --quick"),
    **dict.fromkeys(["reparameterize_backward", "gaussian_kl", "adam_step"], "demos/vae_mnist.py --quick"),
    "discriminator_loss": "demos/dcgan_mnist.py --quick",
    "gradient_penalty": "demos/dcgan_mnist.py --quick --loss wgan-gp",
    "conditional_discriminator_loss": "demos/cgan_mnist.py --quick",
    "pix2pix_generator_loss": "demos/pix2pix_mnist.py --quick",
}


def get(name):
    """The exercise called ``name``; KeyError listing the known names otherwise."""
    if name not in BY_NAME:
        raise KeyError(f"no exercise called {name!r}; the exercises are: {', '.join(BY_NAME)}")
    return BY_NAME[name]
