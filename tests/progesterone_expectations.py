"""What the Progesterone and Bone Health deck must cover.

Plain data for the coverage test. It mirrors cards/progesterone-bone/*.yaml
(ids, term texts, table cells, mechanism steps) and must change with it.
"""

# Card id -> term text, for the 21 glossary entries that carry a definition.
GLOSSARY_TERM_IDS = {
    "term-skeletal-integrity": "Skeletal integrity",
    "term-bone-remodeling": "Bone remodeling",
    "term-osteoclast-activity": "Osteoclast activity",
    "term-endocrine-system": "Endocrine system",
    "term-bone-turnover": "Bone turnover",
    "term-bone-formation": "Bone formation",
    "term-bone-resorption": "Bone resorption",
    "term-bone-density": "Bone density",
    "term-progesterone-deficiency": "Progesterone deficiency",
    "term-hormonal-imbalance": "Hormonal imbalance",
    "term-progesterone-levels": "Progesterone levels",
    "term-bone-health": "Bone health",
    "term-bone-loss": "Bone loss",
    "term-bone-mineral-density": "Bone mineral density",
    "term-bioidentical-progesterone": "Bioidentical progesterone",
    "term-hormonal-optimization": "Hormonal optimization",
    "term-metabolic-function": "Metabolic function",
    "term-osteoblast-activity": "Osteoblast activity",
    "term-hpg-axis": "HPG axis",
    "term-hpa-axis": "HPA axis",
    "term-hpt-axis": "HPT axis",
}

# (table card id, first cell of the row, column header) for every cell
# outside the first column: 12 in the protocol table, 10 in the systemic one.
TABLE_CELLS = [
    ("table-protocol-components", "Progesterone", "Primary Purpose"),
    ("table-protocol-components", "Progesterone", "Administration"),
    ("table-protocol-components", "Progesterone", "Impact on Bone Health"),
    (
        "table-protocol-components",
        "Testosterone Cypionate (Low-Dose)",
        "Primary Purpose",
    ),
    (
        "table-protocol-components",
        "Testosterone Cypionate (Low-Dose)",
        "Administration",
    ),
    (
        "table-protocol-components",
        "Testosterone Cypionate (Low-Dose)",
        "Impact on Bone Health",
    ),
    ("table-protocol-components", "Estradiol (if indicated)", "Primary Purpose"),
    ("table-protocol-components", "Estradiol (if indicated)", "Administration"),
    ("table-protocol-components", "Estradiol (if indicated)", "Impact on Bone Health"),
    ("table-protocol-components", "Anastrozole (Pellet Therapy)", "Primary Purpose"),
    ("table-protocol-components", "Anastrozole (Pellet Therapy)", "Administration"),
    (
        "table-protocol-components",
        "Anastrozole (Pellet Therapy)",
        "Impact on Bone Health",
    ),
    (
        "table-systemic-factors",
        "HPG Axis Hormones (Estrogen, Testosterone)",
        "Mechanism of Influence on Bone",
    ),
    (
        "table-systemic-factors",
        "HPG Axis Hormones (Estrogen, Testosterone)",
        "Relevance to Progesterone Deficiency",
    ),
    (
        "table-systemic-factors",
        "HPA Axis Hormones (Cortisol)",
        "Mechanism of Influence on Bone",
    ),
    (
        "table-systemic-factors",
        "HPA Axis Hormones (Cortisol)",
        "Relevance to Progesterone Deficiency",
    ),
    (
        "table-systemic-factors",
        "HPT Axis Hormones (Thyroid)",
        "Mechanism of Influence on Bone",
    ),
    (
        "table-systemic-factors",
        "HPT Axis Hormones (Thyroid)",
        "Relevance to Progesterone Deficiency",
    ),
    (
        "table-systemic-factors",
        "Inflammation (Cytokines)",
        "Mechanism of Influence on Bone",
    ),
    (
        "table-systemic-factors",
        "Inflammation (Cytokines)",
        "Relevance to Progesterone Deficiency",
    ),
    (
        "table-systemic-factors",
        "Metabolic Health (Insulin Sensitivity)",
        "Mechanism of Influence on Bone",
    ),
    (
        "table-systemic-factors",
        "Metabolic Health (Insulin Sensitivity)",
        "Relevance to Progesterone Deficiency",
    ),
]

# Mechanism card id -> its steps, exactly as written in the YAML, in order.
MECHANISMS = {
    "mech-bone-remodeling-balance": [
        "Osteoclasts resorb old bone tissue",
        "Osteoblasts build new bone matrix",
        "Formation and resorption stay in equilibrium",
        "Bone strength and density are maintained",
        "If the balance falters, bone integrity can be compromised",
    ],
    "mech-pr-complex-transcription": [
        "Progesterone binds progesterone receptors in bone cells",
        "The hormone-receptor complex acts as a transcription factor",
        "It regulates genes for bone formation and resorption",
        "In osteoblasts, collagen synthesis and mineralization genes can be upregulated",
    ],
    "mech-deficiency-bone-loss": [
        "Progesterone levels decline",
        "Stimulatory signals to osteoblasts may weaken",
        "New bone formation is reduced",
        "Regulatory influence over osteoclasts might diminish",
        "Bone resorption may go unchecked",
        "Breakdown outpaces formation, creating a skeletal mass deficit",
        "Bone density falls and fracture vulnerability rises",
    ],
    "mech-estrogen-dominance": [
        "Estrogen is high relative to progesterone",
        "Estrogen's anti-resorptive effect is present",
        "Progesterone is too low to stimulate bone formation",
        "The bone remodeling equation stays unbalanced",
        "Bone loss can still occur",
    ],
    "mech-menopausal-decline": [
        "Progesterone declines in perimenopause and post-menopause",
        "Its protective effects on bone diminish",
        "Bone turnover can accelerate",
        "Resorption is favored over formation",
        "The skeleton grows more vulnerable to aging and metabolic stressors",
    ],
    "mech-gh-peptides": [
        "A growth hormone peptide is given",
        "The body's natural growth hormone production is stimulated",
        "Growth hormone influences bone density and tissue repair",
        "Anabolic processes, including skeletal maintenance, may be enhanced",
    ],
    "mech-pr-signalling": [
        "Progesterone binds PR-A or PR-B",
        "The receptor undergoes a conformational change",
        "The receptor dimerizes",
        "The dimer translocates to the nucleus",
        "It binds progesterone response elements (PREs) in target-gene promoters",
        "Target-gene transcription is activated or repressed",
        "Alkaline phosphatase and osteocalcin expression is upregulated",
    ],
    "mech-pr-a-vs-pr-b": [
        "PR-B often acts as a transcriptional activator",
        "PR-A can act as a dominant repressor of PR-B-mediated transcription",
        "The PR-A/PR-B balance dictates the bone cell's response",
        "Differing isoform ratios contribute to contradictory study findings",
    ],
    "mech-hpg-ripple": [
        "The HPG axis becomes dysregulated",
        "Progesterone deficiency often follows",
        "Effects ripple across the interconnected HPA and HPT axes",
        "Bone is influenced indirectly",
    ],
    "mech-stress-cortisol": [
        "Chronic stress activates the HPA axis",
        "Cortisol levels rise",
        "Cortisol inhibits osteoblast activity",
        "Cortisol promotes osteoclast differentiation",
        "Net bone mass is reduced",
    ],
    "mech-low-progesterone-stress": [
        "Progesterone levels are low",
        "The body's buffering of stress hormones may be compromised",
        "Hormonal imbalance and chronic stress converge",
        "Skeletal demineralization accelerates",
    ],
    "mech-inflammatory-cytokines": [
        "Metabolic dysregulation fosters chronic low-grade inflammation",
        "Pro-inflammatory cytokines (IL-6, TNF-alpha) are upregulated",
        "Cytokines stimulate osteoclast differentiation and activity",
        "Bone resorption increases",
        "Progesterone's anti-inflammatory action may mitigate some of this",
    ],
    "mech-insulin-resistance": [
        "Insulin resistance and dysglycemia develop",
        "Insulin levels run high",
        "The balance of growth factors and cytokines regulating bone cells shifts",
        "Bone loss may be favored",
    ],
}
