use super::*;

#[test]
fn save_and_load_give_identical_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let mut net = Network::new(
        &Architecture::Mlp {
            config: MlpConfig::new(3),
        },
        &Device::Cpu,
        4,
    )
    .unwrap();
    net.features = Some(vec!["a".into(), "b".into(), "c".into()]);
    let x = Tensor::new(&[[0.1f32, 0.2, 0.3], [1.0, -1.0, 0.5]], &Device::Cpu).unwrap();
    net.save(&path).unwrap();
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(
        net.predict(&x).unwrap().to_vec1::<f32>().unwrap(),
        back.predict(&x).unwrap().to_vec1::<f32>().unwrap()
    );
    assert_eq!(back.architecture(), net.architecture());
    assert_eq!(back.features, net.features);
    assert!(net.to_string().starts_with("MLP 3 -> [64, 64, 64] -> 1"));
    assert!(net.save(&dir.path().join("net.bin")).is_err());
    std::fs::write(&path, b"not safetensors").unwrap();
    assert!(
        Network::load(&path, &Device::Cpu)
            .unwrap_err()
            .to_string()
            .contains("net.safetensors")
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "no temporary files: {leftovers:?}");
    assert!(net.log_prob(&x, None).is_err() && net.sample(3, None, 1, None).is_err());
}

#[test]
fn a_save_that_fails_after_the_weights_loads_the_new_model_whole() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("net.safetensors");
    let mlp = |inputs, seed| {
        Network::new(
            &Architecture::Mlp {
                config: MlpConfig::new(inputs),
            },
            &Device::Cpu,
            seed,
        )
        .unwrap()
    };
    let mut a = mlp(3, 1);
    a.features = Some(vec!["a".into(), "b".into(), "c".into()]);
    a.save(&path).unwrap();
    // B's save writes its weights, then fails on the JSON copy (a directory now).
    let json = checkpoint::description_path(&path);
    std::fs::remove_file(&json).unwrap();
    std::fs::create_dir(&json).unwrap();
    let mut b = mlp(2, 2);
    b.features = Some(vec!["x".into(), "y".into()]);
    assert!(b.save(&path).is_err());
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(back.features, b.features);
    let x = Tensor::new(&[[0.5f32, -1.0]], &Device::Cpu).unwrap();
    assert_eq!(
        back.predict(&x).unwrap().to_vec1::<f32>().unwrap(),
        b.predict(&x).unwrap().to_vec1::<f32>().unwrap()
    );
}

#[test]
fn flows_save_and_load_with_their_context_columns() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.safetensors");
    let config = FlowConfig {
        layers: 2,
        hidden: 8,
        ..FlowConfig::new(2, 1)
    };
    let mut net = Network::new(&Architecture::Flow { config }, &Device::Cpu, 5).unwrap();
    net.features = Some(vec!["a".into(), "b".into()]);
    net.context = Some(vec!["m".into()]);
    let x = Tensor::new(&[[0.1f32, 0.2], [1.0, -1.0]], &Device::Cpu).unwrap();
    let c = Tensor::new(&[[0.5f32], [-0.5]], &Device::Cpu).unwrap();
    net.save(&path).unwrap();
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(
        net.log_prob(&x, Some(&c))
            .unwrap()
            .to_vec1::<f32>()
            .unwrap(),
        back.log_prob(&x, Some(&c))
            .unwrap()
            .to_vec1::<f32>()
            .unwrap()
    );
    let one = Tensor::new(&[[0.3f32]], &Device::Cpu).unwrap();
    assert_eq!(
        net.sample(4, Some(&one), 2, None)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap(),
        back.sample(4, Some(&one), 2, None)
            .unwrap()
            .to_vec2::<f32>()
            .unwrap()
    );
    assert_eq!(back.context, net.context);
    assert_eq!(back.context_inputs(), 1);
    assert!(net.predict(&x).is_err());
    assert!(net.log_prob(&x, None).is_err());
    assert!(net.to_string().contains("context m"), "{net}");
}

#[test]
fn vae_and_svdd_round_trip_with_their_targets() {
    use crate::nn::svdd::SvddConfig;
    use crate::nn::vae::VaeConfig;
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::new(
        &[[0.1f32, 0.2, 0.3], [1.0, -1.0, 0.5], [0.0, 0.4, -0.2]],
        &Device::Cpu,
    )
    .unwrap();
    let ctx = Tensor::new(&[[0.5f32], [1.5], [-0.5]], &Device::Cpu).unwrap();
    let vae_arch = Architecture::Vae {
        config: VaeConfig {
            latent: 2,
            hidden: vec![8, 4],
            conditional_decoder_inputs: 1,
            ..VaeConfig::new(3)
        },
    };
    let mut vae = Network::new(&vae_arch, &Device::Cpu, 1).unwrap();
    vae.context = Some(vec!["m".into()]);
    let path = dir.path().join("vae.safetensors");
    vae.save(&path).unwrap();
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(back.architecture(), vae_arch);
    assert_eq!(back.context, vae.context);
    let same = |a: Tensor, b: Tensor| {
        assert_eq!(
            a.flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            b.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        )
    };
    same(
        vae.predict_with(&x, Some(&ctx)).unwrap(),
        back.predict_with(&x, Some(&ctx)).unwrap(),
    );
    same(vae.kl(&x).unwrap(), back.kl(&x).unwrap());
    same(vae.latent(&x).unwrap(), back.latent(&x).unwrap());
    assert_eq!(vae.latent(&x).unwrap().dims(), [3, 2]);
    assert!(
        vae.predict(&x)
            .unwrap_err()
            .to_string()
            .contains("conditional")
    );
    assert!(vae.score(&x).unwrap_err().to_string().contains("Deep SVDD"));
    assert!(
        vae.to_string()
            .starts_with("VAE 3 -> [8, 4] -> latent 2 (+1 conditional)")
    );

    let svdd_arch = Architecture::DeepSvdd {
        config: SvddConfig {
            hidden: vec![8],
            out_dim: 4,
            ..SvddConfig::new(3)
        },
    };
    let svdd = Network::new(&svdd_arch, &Device::Cpu, 2).unwrap();
    assert!(svdd.predict(&x).unwrap_err().to_string().contains("target"));
    assert!(svdd.kl(&x).unwrap_err().to_string().contains("VAE"));
    svdd.as_svdd().unwrap().set_target_from(&x).unwrap();
    let path = dir.path().join("svdd.safetensors");
    svdd.save(&path).unwrap();
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(
        back.as_svdd().unwrap().target().unwrap(),
        svdd.as_svdd().unwrap().target().unwrap()
    );
    same(svdd.predict(&x).unwrap(), back.score(&x).unwrap());
    assert_eq!(svdd.parameter_count(), 3 * 8 + 8 * 4);
    assert!(svdd.to_string().contains("target set"));
}

#[test]
fn ensembles_save_load_and_predict_the_member_average() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ens.safetensors");
    let arch = Architecture::Ensemble {
        config: MlpConfig::new(2),
        members: 3,
    };
    let net = Network::new(&arch, &Device::Cpu, 5).unwrap();
    let x = Tensor::new(&[[0.1f32, 0.2], [1.0, -1.0]], &Device::Cpu).unwrap();
    let members = net.predict_members(&x).unwrap();
    assert_eq!(members.dims(), [3, 2]);
    let mean = net.predict(&x).unwrap().to_vec1::<f32>().unwrap();
    let want = members.mean(0).unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(mean, want);
    net.save(&path).unwrap();
    let back = Network::load(&path, &Device::Cpu).unwrap();
    assert_eq!(back.architecture(), arch);
    assert_eq!(back.predict(&x).unwrap().to_vec1::<f32>().unwrap(), mean);
    assert!(
        net.to_string()
            .starts_with("Ensemble of 3 MLPs 2 -> [64, 64, 64] -> 1")
    );
    let single = Network::new(
        &Architecture::Mlp {
            config: MlpConfig::new(2),
        },
        &Device::Cpu,
        5,
    )
    .unwrap();
    assert!(single.predict_members(&x).is_err());
}
/// The checkpoint `net` would have been saved as before version 2: dense weights
/// [inputs, outputs] (ensembles and flows unchanged) and no version in the description.
fn write_version_1(net: &Network, path: &Path) {
    let dense = matches!(
        net.architecture(),
        Architecture::Mlp { .. } | Architecture::Vae { .. } | Architecture::DeepSvdd { .. }
    );
    let tensors: HashMap<String, Tensor> = net
        .trainable()
        .params()
        .to_map()
        .into_iter()
        .map(|(name, t)| {
            let t = if dense && name.ends_with(".weight") && t.rank() == 2 {
                t.t().unwrap().contiguous().unwrap()
            } else {
                t
            };
            (name, t)
        })
        .collect();
    let mut description = serde_json::to_value(Description {
        version: CHECKPOINT_VERSION,
        architecture: net.architecture(),
        features: net.features.clone(),
        context: None,
    })
    .unwrap();
    description.as_object_mut().unwrap().remove("version");
    let metadata = HashMap::from([(
        checkpoint::DESCRIPTION_KEY.to_string(),
        description.to_string(),
    )]);
    std::fs::write(
        path,
        safetensors::serialize(&tensors, Some(metadata)).unwrap(),
    )
    .unwrap();
}

#[test]
fn checkpoints_with_inputs_by_outputs_weights_of_version_1_still_load() {
    use crate::nn::svdd::SvddConfig;
    use crate::nn::vae::VaeConfig;
    let dir = tempfile::tempdir().unwrap();
    let x = Tensor::new(&[[0.1f32, 0.2, 0.3], [1.0, -1.0, 0.5]], &Device::Cpu).unwrap();
    let mlp = MlpConfig {
        hidden: vec![5, 4],
        ..MlpConfig::new(3)
    };
    let architectures = [
        Architecture::Mlp {
            config: mlp.clone(),
        },
        Architecture::Vae {
            config: VaeConfig {
                hidden: vec![4],
                ..VaeConfig::new(3)
            },
        },
        Architecture::DeepSvdd {
            config: SvddConfig {
                hidden: vec![4],
                ..SvddConfig::new(3)
            },
        },
        Architecture::Ensemble {
            config: mlp,
            members: 2,
        },
    ];
    for (i, architecture) in architectures.iter().enumerate() {
        let net = Network::new(architecture, &Device::Cpu, 3).unwrap();
        if let Some(svdd) = net.as_svdd() {
            svdd.set_target_from(&x).unwrap();
        }
        let path = dir.path().join(format!("old{i}.safetensors"));
        write_version_1(&net, &path);
        let back = Network::load(&path, &Device::Cpu).unwrap();
        assert_eq!(back.architecture(), *architecture);
        assert_eq!(
            back.predict(&x).unwrap().to_vec1::<f32>().unwrap(),
            net.predict(&x).unwrap().to_vec1::<f32>().unwrap(),
            "{architecture:?}"
        );
        // Saved again, it is a version-2 file that loads the same.
        let again = dir.path().join(format!("new{i}.safetensors"));
        back.save(&again).unwrap();
        let text = std::fs::read_to_string(checkpoint::description_path(&again)).unwrap();
        assert!(text.contains("\"version\": 2"), "{text}");
        assert_eq!(
            Network::load(&again, &Device::Cpu)
                .unwrap()
                .predict(&x)
                .unwrap()
                .to_vec1::<f32>()
                .unwrap(),
            net.predict(&x).unwrap().to_vec1::<f32>().unwrap()
        );
    }
}

#[test]
fn a_checkpoint_of_a_newer_version_is_refused_and_dense_weights_are_outputs_by_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let net = Network::new(
        &Architecture::Mlp {
            config: MlpConfig {
                hidden: vec![5],
                ..MlpConfig::new(3)
            },
        },
        &Device::Cpu,
        1,
    )
    .unwrap();
    let map = net.trainable().params().to_map();
    assert_eq!(map["layer0.weight"].dims(), [5, 3]);
    assert_eq!(map["layer1.weight"].dims(), [1, 5]);
    let path = dir.path().join("future.safetensors");
    let description = format!(
        "{{\"version\": {}, \"architecture\": {}, \"features\": null}}",
        CHECKPOINT_VERSION + 1,
        serde_json::to_string(&net.architecture()).unwrap()
    );
    let metadata = HashMap::from([(checkpoint::DESCRIPTION_KEY.to_string(), description)]);
    std::fs::write(&path, safetensors::serialize(&map, Some(metadata)).unwrap()).unwrap();
    let err = Network::load(&path, &Device::Cpu).unwrap_err().to_string();
    assert!(
        err.contains("future.safetensors") && err.contains("version 3"),
        "{err}"
    );
}
