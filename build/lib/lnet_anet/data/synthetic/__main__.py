from lnet_anet.data.synthetic.celeba_tree import main

main()
